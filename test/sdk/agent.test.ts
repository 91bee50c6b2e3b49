import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair } from '../../src/identity/index.js';
import { type Message, Topics } from '../../src/mp/index.js';
import { RemoteError, RpcClient } from '../../src/rpc/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-agent-');
let jitd: Jitd;
const keys = { alice: KeyPair.generate(), bob: KeyPair.generate(), watcher: KeyPair.generate() };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

before(async () => {
  jitd = await startJitd({ home: await tmp() });
  await registerAgents(jitd.home, Object.entries(keys));
});
after(async () => {
  await jitd.stop();
});

const connect = (agent: keyof typeof keys): Promise<Agent> =>
  Agent.connect({ agent, key: keys[agent], plane: socketPath(jitd.home) });

/** Collects messages on `pattern` until `n` have arrived. */
async function collect(
  a: Agent,
  pattern: string,
  n: number,
): Promise<{ got: Message[]; done: Promise<void> }> {
  const got: Message[] = [];
  let done!: () => void;
  const p = new Promise<void>((r) => {
    done = r;
  });
  await a.plane.subscribe(pattern, (m) => {
    got.push(m);
    if (got.length === n) done();
  });
  return { got, done: p };
}

describe('agents over the native plane and the kernel bridge', () => {
  it('two agents patch one SWS concurrently, the owner commits; the kernel announces it, signed', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const watcher = await connect('watcher');
    const life = await collect(watcher, Topics.kernelSwsLifecycle, 2);
    const refs = await collect(watcher, Topics.kernelRefUpdates, 1);
    const sws = await alice.openSws({ delegates: ['bob'] });
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        alice.patch(sws, [{ op: 'put', path: `alice/${i}.txt`, content: enc(`a${i}\n`) }]),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        bob.patch(sws, [{ op: 'put', path: `bob/${i}.txt`, content: enc(`b${i}\n`) }]),
      ),
    ]);
    assert.ok(results.every((r) => (r as { updated: boolean }).updated === true));
    const committed = (await alice.commit(sws, { message: 'two agents' })) as {
      snapshot: string;
      ref: string;
    };
    assert.equal(committed.ref, 'main');
    const { files } = (await alice.rpc!.call('shadow.files', { id: sws })) as {
      files: Record<string, string>;
    };
    assert.equal(Object.keys(files).length, 40);
    await life.done;
    await refs.done;
    assert.deepEqual(
      life.got.map((m) => [m.sender, (m.payload as { event: string }).event]),
      [
        ['jit-kernel', 'created'],
        ['jit-kernel', 'collapsed'],
      ],
    );
    assert.deepEqual(refs.got[0]!.payload, {
      ref: 'main',
      target: committed.snapshot,
      by: 'collapse',
      sws,
    });
    for (const a of [alice, bob, watcher]) await a.close();
  });

  it('deleting a branch invalidates the working sets on it: the kernel announces each, signed, and they refuse patches', async () => {
    const admin = await RpcClient.connect(
      { path: socketPath(jitd.home) },
      { login: await adminSigner(jitd.home) },
    );
    const { refs } = (await admin.call('ref.list', {})) as {
      refs: { name: string; target: string }[];
    };
    const target = refs.find((r) => r.name === 'main')!.target;
    await admin.call('ref.create_branch', { name: 'doomed', target });
    const alice = await connect('alice');
    const watcher = await connect('watcher');
    const life: Message[] = [];
    await watcher.plane.subscribe(Topics.kernelSwsLifecycle, (m) => void life.push(m));
    const sws = await alice.openSws({ ref: 'doomed' });
    await alice.patch(sws, [{ op: 'put', path: 'x', content: enc('x') }]);
    const r = (await admin.call('ref.delete', { name: 'doomed' })) as { invalidated: string[] };
    assert.deepEqual(r.invalidated, [sws]);
    const invalidated = (): Message | undefined =>
      life.find((m) => (m.payload as { event: string }).event === 'invalidated');
    for (let i = 0; i < 500 && invalidated() === undefined; i++)
      await new Promise((res) => setTimeout(res, 10));
    assert.equal(invalidated()?.sender, 'jit-kernel');
    assert.deepEqual(invalidated()?.payload, {
      event: 'invalidated',
      sws,
      reason: 'branch-deleted',
      ref: 'doomed',
    });
    await assert.rejects(
      alice.patch(sws, [{ op: 'put', path: 'y', content: enc('y') }]),
      (e: unknown) => e instanceof RemoteError && /INVALIDATED/.test(e.message),
    );
    await admin.close();
    for (const a of [alice, watcher]) await a.close();
  });

  it('refuses a patch that names someone else as author, and a commit by a member who is not the owner', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const sws = await alice.openSws();
    await alice.addMember(sws, 'bob');
    const forged = bob.plane.command(
      Topics.swsPatch(sws),
      { patch: { author: 'alice', ops: [{ op: 'put', path: 'x', content: enc('x') }] } },
      { statusTopic: Topics.swsStatus(sws) },
    );
    const answer = (await forged) as { ok: boolean; error: { name: string } };
    assert.equal(answer.ok, false);
    assert.equal(answer.error.name, 'E_ACCESS_DENIED');
    await assert.rejects(
      bob.commit(sws),
      (e) => e instanceof RemoteError && e.codeName === 'E_ACCESS_DENIED',
    );
    const status = (await alice.rpc!.call('shadow.status', { id: sws })) as { state: string };
    assert.equal(status.state, 'ACTIVE');
    await alice.close();
    await bob.close();
  });

  it('answers a retried command again without running it twice', async () => {
    const alice = await connect('alice');
    const sws = await alice.openSws();
    const answers = await collect(alice, Topics.swsStatus(sws), 2);
    const topic = Topics.swsPatch(sws);
    const { envelope, bytes } = alice.plane.envelope(topic, {
      patch: { author: 'alice', ops: [{ op: 'put', path: 'once', content: enc('1') }] },
    });
    await alice.plane.send(topic, bytes);
    await alice.plane.send(topic, bytes);
    await answers.done;
    const [a, b] = answers.got.map((m) => m.payload as { re: string; ok: boolean });
    assert.equal(a!.re, Buffer.from(envelope.id).toString('hex'));
    assert.deepEqual(a, b);
    const { patches } = (await alice.rpc!.call('shadow.status', { id: sws })) as {
      patches: number;
    };
    assert.equal(patches, 1);
    await alice.close();
  });

  it('refuses, at once, a command to an SWS the agent is not a member of', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const sws = await alice.openSws();
    const started = performance.now();
    await assert.rejects(
      bob.patch(sws, [{ op: 'put', path: 'x', content: enc('x') }]),
      (e) => e instanceof RemoteError && e.codeName === 'E_ACCESS_DENIED',
    );
    assert.ok(performance.now() - started < 2000, 'not retried until a timeout');
    const { patches } = (await alice.rpc!.call('shadow.status', { id: sws })) as {
      patches: number;
    };
    assert.equal(patches, 0);
    await alice.close();
    await bob.close();
  });

  it('exchanges findings between members', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const sws = await alice.openSws();
    await alice.addMember(sws, 'bob');
    const seen: string[] = [];
    let done!: () => void;
    const got = new Promise<void>((r) => {
      done = r;
    });
    await alice.findings(sws, (f) => {
      seen.push(`${f.author}:${f.severity}:${f.path}:${f.message}`);
      done();
    });
    await bob.analyze(sws, {
      path: 'src/a.ts',
      range: [3, 5],
      severity: 'warning',
      message: 'unused',
    });
    await got;
    assert.deepEqual(seen, ['bob:warning:src/a.ts:unused']);
    await alice.close();
    await bob.close();
  });
});
