/**
 * Everything that uses the local Redis, in one file: some tests restart it, which would break a
 * Redis test running alongside in another file.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import { RedisTransport } from '../../src/mp/transports/redis/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { brokerSkip, restartRedis } from '../helpers/brokers.js';
import { patchStorm } from '../helpers/patch-storm.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';
import { transportConformance } from './conformance.js';
import { hostileAgentSuite } from './hostile.js';

const stream = `jit:test:${process.pid}`;
const make = (): RedisTransport =>
  new RedisTransport({ url: 'redis://127.0.0.1:6379', stream, ackWaitMs: 2000, blockMs: 200 });
const skip = await brokerSkip('Redis', 6379);
const tmp = tmpDirs('jit-redis-jitd-');

if (skip !== false) {
  it('Redis Streams conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'redis',
    connect: async () => make(),
    url: async () => `redis://127.0.0.1:6379?stream=${encodeURIComponent(stream)}&ack_wait_ms=2000`,
    gaps: make().gaps,
    close: async () => {
      const t = make();
      await t.deleteStream();
      await t.close();
    },
  });
}

describe('Redis stream trimming', { skip }, () => {
  it('drops what every group has acknowledged, never a pending or unread entry', async () => {
    const t = new RedisTransport({
      url: 'redis://127.0.0.1:6379',
      stream: `jit:test:trim:${process.pid}`,
      trimEveryMs: 0,
    });
    try {
      const sub = await t.subscribe('trim.t', { group: 'trim', maxInFlight: 100 });
      for (let i = 0; i < 10; i++) await t.publish('trim.t', new Uint8Array([i]));
      const it = sub[Symbol.asyncIterator]();
      const got = [];
      for (let i = 0; i < 10; i++) got.push((await it.next()).value!);
      for (const d of got.slice(0, 6)) d.ack();
      await new Promise((r) => setTimeout(r, 50)); // the acks are sent after the tick
      assert.equal(await t.trim(), 6);
      assert.equal(await t.length(), 4, 'the 4 pending entries stay');
      // published and not read by the group yet: kept too
      await sub.close();
      for (let i = 10; i < 15; i++) await t.publish('trim.t', new Uint8Array([i]));
      assert.equal(await t.trim(), 0);
      assert.equal(await t.length(), 9);
    } finally {
      await t.deleteStream();
      await t.close();
    }
  });
});

describe('jitd with --plane redis://', { skip }, () => {
  const key = `jit:test:jitd:${process.pid}`;
  const url = `redis://127.0.0.1:6379?stream=${encodeURIComponent(key)}`;
  after(async () => {
    const t = new RedisTransport({ url: 'redis://127.0.0.1:6379', stream: key });
    await t.deleteStream();
    await t.close();
  });

  it('an agent on Redis patches and commits through the kernel bridge', async () => {
    const jitd = await startJitd({ home: await tmp(), plane: url });
    try {
      const k = KeyPair.generate();
      await registerAgents(jitd.home, [['alice', k]]);
      const a = await Agent.connect({
        agent: 'alice',
        key: k,
        plane: url,
        kernel: socketPath(jitd.home),
      });
      const sws = await a.openSws();
      await a.patch(sws, [{ op: 'put', path: 'r.txt', content: new TextEncoder().encode('r\n') }]);
      const r = (await a.commit(sws)) as { ref: string };
      assert.equal(r.ref, 'main');
      await a.close();
    } finally {
      await jitd.stop();
    }
  });
});

describe('Redis restarted under the plane', { skip }, () => {
  const key = `jit:test:fault:${process.pid}`;
  const url = `redis://127.0.0.1:6379?stream=${encodeURIComponent(key)}&ack_wait_ms=2000`;
  after(async () => {
    const t = new RedisTransport({ url: 'redis://127.0.0.1:6379', stream: key });
    await t.deleteStream();
    await t.close();
  });

  it('8 agents x N patches over Redis with the server restarted (empty: no persistence) in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: url,
      perAgent: iterations(1000, 1000),
      fault: () => restartRedis(6379),
    });
  });

  it('8 agents x N patches over Redis with jitd restarted in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: url,
      perAgent: iterations(300, 1000),
      fault: ({ restartJitd }) => restartJitd(),
    });
  });
});

const hostileKey = `jit:test:hostile:${process.pid}`;
hostileAgentSuite({
  name: 'Redis',
  skip,
  plane: `redis://127.0.0.1:6379?stream=${encodeURIComponent(hostileKey)}`,
  fuzz: iterations(2_000, 20_000),
  cleanup: async () => {
    const t = new RedisTransport({ url: 'redis://127.0.0.1:6379', stream: hostileKey });
    await t.deleteStream();
    await t.close();
  },
});
