import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair, keySigner } from '../../src/identity/index.js';
import {
  encodeEnvelope,
  MARK_WINDOW,
  type Message,
  messageIdHex,
  NativeTransport,
  seal,
  Topics,
} from '../../src/mp/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { parseExposition } from '../helpers/prometheus.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-replay-');

/** The kernel's store and SWS digests and its log's size: what a refused message must not move. */
function kernelState(j: Jitd): string {
  return `${j.kernel.store.digest()} ${j.kernel.swsSummary().digest} ${j.kernel.store.walBytes}`;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

/** A data directory with alice registered and jitd started on it, and a way to connect alice. */
async function withAlice(): Promise<{
  home: string;
  key: KeyPair;
  jitd: Jitd;
  connect: () => Promise<Agent>;
}> {
  const home = await tmp();
  const key = KeyPair.generate();
  const jitd = await startJitd({ home });
  await registerAgents(home, [['alice', key]]);
  return {
    home,
    key,
    jitd,
    connect: () => Agent.connect({ agent: 'alice', key, plane: socketPath(home) }),
  };
}

/** A put of one byte at `path`. */
const op = (path: string) => ({ op: 'put', path, content: new Uint8Array([1]) });

describe('replays, a second, a day and a restart later', () => {
  it('answers a command replayed after a restart from its kept answer, without running it, and reports it; refuses it once expired', async () => {
    const { home, key, connect, ...started } = await withAlice();
    let jitd = started.jitd;
    let alice = await connect();
    const sws = await alice.openSws();
    const topic = Topics.swsPatch(sws);
    const cmd = alice.plane.envelope(topic, {
      patch: { author: 'alice', ops: [{ op: 'put', path: 'once', content: new Uint8Array([1]) }] },
    });
    // a day-old copy of another command: signed with an expiry long past
    const stale = seal(
      {
        ...alice.plane.envelope(topic, {
          patch: {
            author: 'alice',
            ops: [{ op: 'put', path: 'old', content: new Uint8Array([2]) }],
          },
        }).envelope,
        exp: Date.now() - 86_400_000,
      },
      keySigner('alice', key),
    );
    const answers: Message[] = [];
    await alice.plane.subscribe(Topics.swsStatus(sws), (m) => void answers.push(m));
    await alice.plane.send(topic, cmd.bytes);
    await until(() => answers.length === 1, 'the first answer');
    const first = answers[0]!.payload;
    await alice.close();
    await jitd.stop();

    // restarted: the duplicate window is gone, the kept answers are not
    jitd = await startJitd({ home });
    alice = await connect();
    const events: Message[] = [];
    await alice.plane.subscribe(Topics.kernelEvents, (m) => void events.push(m));
    const again: Message[] = [];
    await alice.plane.subscribe(Topics.swsStatus(sws), (m) => void again.push(m));
    const before = kernelState(jitd);
    const raw = new NativeTransport({ path: socketPath(home) }, { login: await adminSigner(home) });
    await raw.start();
    await raw.publish(topic, cmd.bytes);
    await raw.publish(topic, encodeEnvelope(stale));
    await until(
      () => again.length === 1 && events.length >= 2,
      'the replayed answer and the reports',
    );
    assert.deepEqual(again[0]!.payload, first, 'the same answer as before the restart');
    const reasons = events.map((e) => (e.payload as { reason: string }).reason).sort();
    assert.deepEqual(reasons, ['expired', 'replayed']);
    assert.equal(kernelState(jitd), before, 'nothing changed, nothing was logged');
    const { patches } = (await alice.rpc!.call('shadow.status', { id: sws })) as {
      patches: number;
    };
    assert.equal(patches, 1);
    await raw.close();
    await alice.close();
    await jitd.stop();
  });

  it("refuses, after jitd restarts, a never-seen command from a stream its sender has left, and one far behind its stream's mark (the kept high-water marks)", async () => {
    const { home, key, connect, ...started } = await withAlice();
    let jitd = started.jitd;
    const put = (path: string) => ({ patch: { author: 'alice', ops: [op(path)] } });
    const patches = async (a: Agent, sws: string): Promise<number> =>
      ((await a.rpc!.call('shadow.status', { id: sws })) as { patches: number }).patches;
    // alice's first run (one stream epoch): one command answered, one captured but never sent
    let alice = await connect();
    const sws = await alice.openSws();
    const topic = Topics.swsPatch(sws);
    await alice.patch(sws, [op('first')]);
    const captured = alice.plane.envelope(topic, put('captured'));
    const firstEpoch = alice.plane.epoch;
    await alice.close();
    // her second run, a newer epoch: one command answered, one captured, and one numbered far
    // ahead (as if she had sent that many), which jitd takes
    alice = await connect();
    assert.ok(alice.plane.epoch > firstEpoch);
    await alice.patch(sws, [op('second')]);
    const behind = alice.plane.envelope(topic, put('behind'));
    const ahead = seal(
      { ...alice.plane.envelope(topic, put('ahead')).envelope, seq: MARK_WINDOW + 10 },
      keySigner('alice', key),
    );
    await alice.plane.send(topic, encodeEnvelope(ahead));
    for (let i = 0; i < 500 && (await patches(alice, sws)) < 3; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(await patches(alice, sws), 3, 'first, second and ahead were applied');
    await alice.close();
    await jitd.stop();

    // restarted: the duplicate window and the reorder buffers are empty; the marks are kept
    jitd = await startJitd({ home });
    alice = await connect();
    const events: Message[] = [];
    await alice.plane.subscribe(Topics.kernelEvents, (m) => void events.push(m));
    const before = kernelState(jitd);
    const raw = new NativeTransport({ path: socketPath(home) }, { login: await adminSigner(home) });
    await raw.start();
    // both signed by alice, unexpired, never answered
    await raw.publish(topic, captured.bytes);
    await raw.publish(topic, behind.bytes);
    const refused = (): { reason: string; detail?: string; id: string }[] =>
      events
        .map((e) => e.payload as { reason: string; detail?: string; id: string })
        .filter((p) => p.reason === 'replayed');
    await until(() => refused().length >= 2, 'the two refusals');
    assert.deepEqual(
      refused().map((r) => [r.id, r.detail]),
      [
        [messageIdHex(captured.envelope), 'old-stream'],
        [messageIdHex(behind.envelope), 'behind-mark'],
      ],
    );
    assert.equal(kernelState(jitd), before, 'nothing changed, nothing was logged');
    assert.equal(await patches(alice, sws), 3);
    const metrics = parseExposition(await jitd.metrics.scrape());
    for (const how of ['old-stream', 'behind-mark'])
      assert.equal(metrics.value('jit_bridge_replayed_total', { how }), 1, how);
    // her current stream still works
    await alice.patch(sws, [op('third')]);
    assert.equal(await patches(alice, sws), 4);
    await raw.close();
    await alice.close();
    await jitd.stop();
  });

  it('answers the commands of an older plane of an agent with E_STALE_STREAM once a newer plane of it has spoken', async () => {
    const { jitd, connect } = await withAlice();
    const older = await connect();
    const sws = await older.openSws();
    await older.patch(sws, [op('a')]);
    const newer = await connect(); // a second process of alice's, say
    assert.ok(newer.plane.epoch > older.plane.epoch);
    await newer.patch(sws, [op('b')]);
    const before = kernelState(jitd);
    await assert.rejects(older.patch(sws, [op('c')]), (e: Error & { code?: number }) => {
      assert.equal(e.code, 14);
      assert.match(e.message, /later plane of alice/);
      assert.match(e.message, /one plane per agent/);
      return true;
    });
    assert.equal(kernelState(jitd), before, 'not run');
    await newer.patch(sws, [op('d')]); // the newer plane goes on
    await older.close();
    await newer.close();
    await jitd.stop();
  });
});
