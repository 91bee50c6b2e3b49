import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair, keySigner } from '../../src/identity/index.js';
import { encodeEnvelope, type Message, NativeTransport, seal, Topics } from '../../src/mp/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-replay-');

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

describe('replays, a second, a day and a restart later', () => {
  it('answers a command replayed after a restart from its kept answer, without running it, and reports it; refuses it once expired', async () => {
    const home = await tmp();
    const key = KeyPair.generate();
    let jitd = await startJitd({ home });
    await registerAgents(home, [['alice', key]]);
    const connect = (): Promise<Agent> =>
      Agent.connect({ agent: 'alice', key, plane: socketPath(home) });
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
    const before = `${jitd.kernel.store.digest()} ${jitd.kernel.swsSummary().digest}`;
    const walBefore = jitd.kernel.store.walBytes;
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
    assert.equal(`${jitd.kernel.store.digest()} ${jitd.kernel.swsSummary().digest}`, before);
    assert.equal(jitd.kernel.store.walBytes, walBefore, 'nothing was logged');
    const { patches } = (await alice.rpc!.call('shadow.status', { id: sws })) as {
      patches: number;
    };
    assert.equal(patches, 1);
    await raw.close();
    await alice.close();
    await jitd.stop();
  });
});
