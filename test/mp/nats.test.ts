/**
 * Everything that uses the local nats-server, in one file: node:test runs a file's tests one
 * after another, and some of them restart the broker, which would break any NATS test running
 * alongside in another file.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import { type Message, openTransport, PlaneUnavailableError, Topics } from '../../src/mp/index.js';
import { NatsTransport } from '../../src/mp/transports/nats/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { brokerSkip, restartBroker } from '../helpers/brokers.js';
import { capture } from '../helpers/io.js';
import { patchStorm } from '../helpers/patch-storm.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';
import { transportConformance } from './conformance.js';
import { hostileAgentSuite } from './hostile.js';

const skip = await brokerSkip('NATS', 4222);
const tmp = tmpDirs('jit-nats-');

const url = 'nats://127.0.0.1:4222';
const stream = `JIT_TEST_${process.pid}`;
const make = (): NatsTransport =>
  new NatsTransport({ url, stream, prefix: `jittest${process.pid}`, ackWaitMs: 2000 });

if (skip !== false) {
  it('NATS JetStream conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'nats',
    connect: async () => make(),
    url: async () => `${url}?stream=${stream}&prefix=jittest${process.pid}&ack_wait_ms=2000`,
    gaps: make().gaps,
    restart: () => restartBroker('nats-server', 4222),
    close: async () => {
      const t = make();
      await t.deleteStream();
      await t.close();
    },
  });
}

const jitdStream = `JIT_TEST_JITD_${process.pid}`;
const jitdUrl = `nats://127.0.0.1:4222?stream=${jitdStream}&prefix=jitj${process.pid}`;

describe('jitd with --plane nats://', { skip }, () => {
  after(async () => {
    const t = openTransport(jitdUrl) as NatsTransport;
    await t.deleteStream();
    await t.close();
  });

  it('agents on NATS patch and commit through the kernel bridge; jit info names the plane', async () => {
    const jitd = await startJitd({ home: await tmp(), plane: jitdUrl });
    try {
      const keys = { alice: KeyPair.generate(), bob: KeyPair.generate() };
      await registerAgents(jitd.home, Object.entries(keys));
      const connect = (agent: 'alice' | 'bob'): Promise<Agent> =>
        Agent.connect({ agent, key: keys[agent], plane: jitdUrl, kernel: socketPath(jitd.home) });
      const alice = await connect('alice');
      const bob = await connect('bob');
      const life: Message[] = [];
      await bob.plane.subscribe(Topics.kernelSwsLifecycle, (m) => void life.push(m));
      const sws = await alice.openSws({ delegates: ['bob'] });
      const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
      await Promise.all([
        alice.patch(sws, [{ op: 'put', path: 'a.txt', content: enc('a\n') }]),
        bob.patch(sws, [{ op: 'put', path: 'b.txt', content: enc('b\n') }]),
      ]);
      const r = (await bob.commit(sws, { message: 'over NATS' })) as { ref: string };
      assert.equal(r.ref, 'main');
      for (let i = 0; i < 200 && life.length < 2; i++) await new Promise((x) => setTimeout(x, 10));
      assert.deepEqual(
        life.map((m) => (m.payload as { event: string }).event),
        ['created', 'collapsed'],
      );
      const io = capture();
      assert.equal(await main(['info', '--home', jitd.home], io), 0);
      assert.match(io.stdout, /plane {6}nats \(nats:\/\/127\.0\.0\.1:4222/);
      assert.match(io.stdout, new RegExp(`connected: stream ${jitdStream}: \\d+ messages`));
      await alice.close();
      await bob.close();
    } finally {
      await jitd.stop();
    }
  });

  it('jit demo runs on the NATS plane, and the dashboard hears its agents and negotiations there', async () => {
    const jitd = await startJitd({ home: await tmp(), plane: jitdUrl, dashboard: { port: 0 } });
    try {
      const io = capture();
      const before = process.env.JIT_PLANE;
      process.env.JIT_PLANE = jitdUrl; // the demo's agents on jitd's broker
      try {
        assert.equal(await main(['demo', '--home', jitd.home, '--json'], io), 0, io.stderr);
      } finally {
        if (before === undefined) delete process.env.JIT_PLANE;
        else process.env.JIT_PLANE = before;
      }
      assert.equal((JSON.parse(io.stdout) as { committed: number }).committed, 1);
      type Live = { ticks: { agents: { agent: string }[]; negotiations: { state: string }[] }[] };
      let live: Live | undefined;
      // the live lists come with the dashboard's once-a-second tick: wait for one that has them all
      for (let i = 0; i < 60; i++) {
        live = (await (await fetch(new URL('/api/live', jitd.dashboardUrl!))).json()) as Live;
        const t = live.ticks.at(-1);
        if ((t?.negotiations.filter((n) => n.state === 'completed').length ?? 0) >= 7) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const t = live!.ticks.at(-1)!;
      assert.ok(t.agents.filter((a) => a.agent.startsWith('demo-')).length >= 12);
      assert.ok(t.negotiations.filter((n) => n.state === 'completed').length >= 7); // 3 workers, 4 judges
      const metrics = await (await fetch(new URL('/metrics', jitd.dashboardUrl!))).text();
      assert.match(metrics, /^jit_transport_up\{transport="nats"\} 1$/m);
    } finally {
      await jitd.stop();
    }
  });

  it('refuses to start on a plane it cannot reach, saying which, and leaves the data directory free', async () => {
    const home = await tmp();
    await assert.rejects(
      startJitd({ home, plane: 'nats://user:secret@127.0.0.1:1?stream=X' }),
      (e) =>
        e instanceof PlaneUnavailableError &&
        /nats:\/\/user:\*\*\*@127\.0\.0\.1:1/.test(e.message) &&
        !e.message.includes('secret'),
    );
    const again = await startJitd({ home });
    await again.stop();
  });

  it('closes the plane it opened when a later step of starting fails (no connection left open)', async () => {
    const home = await tmp();
    // the answers file cannot be opened: it is a directory
    await mkdir(join(home, 'answers.log'), { recursive: true });
    const sockets = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    await assert.rejects(startJitd({ home, plane: jitdUrl }), PlaneUnavailableError);
    // a connection that is being closed leaves the list once its close completes
    for (let i = 0; i < 50 && sockets() > before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sockets(), before, 'the NATS connection jitd opened is closed again');
  });
});

const faultUrl = `nats://127.0.0.1:4222?stream=JIT_FAULT_${process.pid}&prefix=jitf${process.pid}&ack_wait_ms=2000`;

describe('NATS restarted under the plane', { skip }, () => {
  after(async () => {
    const t = openTransport(faultUrl) as NatsTransport;
    await t.deleteStream();
    await t.close();
  });

  it('8 agents x N patches over NATS with a broker restart in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: faultUrl,
      perAgent: iterations(1000, 1000),
      fault: () => restartBroker('nats-server', 4222),
    });
  });

  it('8 agents x N patches over NATS with jitd restarted in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: faultUrl,
      perAgent: iterations(300, 1000),
      fault: ({ restartJitd }) => restartJitd(),
    });
  });
});

const hostileStream = `JIT_TEST_HOSTILE_${process.pid}`;
const hostileUrl = `nats://127.0.0.1:4222?stream=${hostileStream}&prefix=jith${process.pid}`;
hostileAgentSuite({
  name: 'NATS',
  skip,
  plane: hostileUrl,
  fuzz: iterations(2_000, 20_000),
  cleanup: async () => {
    const t = openTransport(hostileUrl) as NatsTransport;
    await t.deleteStream();
    await t.close();
  },
});
