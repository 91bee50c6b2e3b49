import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairBacklog } from '../../src/mp/fair-backlog.js';
import { type Delivery, MemoryBroker } from '../../src/mp/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

describe('fair backlog', () => {
  it('serves publishers in turn, FIFO each, what was taken back first (seeded, against a model)', () => {
    const seed = testSeed();
    const hint = replayHint(seed, 'fair backlog');
    const r = rng(seed);
    const b = new FairBacklog<string>(1000);
    const sent = new Map<string, number>();
    const got: string[] = [];
    for (let step = 0; step < 2000; step++) {
      const x = r.next();
      if (x < 0.55) {
        const key = `p${r.int(5)}`;
        const n = sent.get(key) ?? 0;
        sent.set(key, n + 1);
        b.push(key, `${key}:${n}`);
      } else {
        const y = b.shift();
        if (y !== undefined) got.push(y);
      }
    }
    for (let y = b.shift(); y !== undefined; y = b.shift()) got.push(y);
    assert.equal(b.length, 0, hint);
    // every message once, and each publisher's in its order
    assert.equal(
      got.length,
      [...sent.values()].reduce((a, c) => a + c, 0),
      hint,
    );
    const next = new Map<string, number>();
    for (const y of got) {
      const [key, n] = y.split(':') as [string, string];
      assert.equal(Number(n), next.get(key) ?? 0, `${y} out of order; ${hint}`);
      next.set(key, Number(n) + 1);
    }
  });

  it('a publisher with a thousand queued delays another by at most one message; taken-back ones go first', () => {
    const b = new FairBacklog<string>(10_000);
    for (let i = 0; i < 1000; i++) b.push('flood', `f${i}`);
    b.push('honest', 'h0');
    const order = [b.shift(), b.shift(), b.shift()];
    assert.ok(order.includes('h0'), `got ${order.join(', ')}`);
    b.unshift(['back1', 'back2']);
    assert.deepEqual([b.shift(), b.shift()], ['back1', 'back2']);
    assert.equal(b.fullFor('flood'), false);
    const small = new FairBacklog<number>(2);
    small.push('a', 1);
    small.push('a', 2);
    assert.equal(small.fullFor('a'), true);
    assert.equal(small.fullFor('b'), false);
  });
});

describe('memory broker: publishers served in turn', () => {
  it("a flooder's backlog does not stand in front of another publisher's message, and its wait for room holds up nobody else", async () => {
    const broker = new MemoryBroker({ maxBacklog: 64 });
    const flood = broker.connect();
    const honest = broker.connect();
    const consumer = broker.connect();
    const sub = await consumer.subscribe('cmd.>', { group: 'g', maxInFlight: 1 });
    const bytes = new Uint8Array([1]);
    // the flooder fills its share and then waits for room
    const flooding = Array.from({ length: 200 }, (_, i) =>
      flood.publish(`cmd.f${i}`, bytes, { from: 'flooder' }),
    );
    // the honest publisher is not held up behind it
    await honest.publish('cmd.honest', bytes, { from: 'honest' });
    const it = sub[Symbol.asyncIterator]();
    const topics: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = (await it.next()).value as Delivery;
      topics.push(d.topic);
      d.ack();
    }
    assert.ok(topics.includes('cmd.honest'), `the first three: ${topics.join(', ')}`);
    // the flood still arrives whole, in its order
    const rest: string[] = [];
    while (rest.length < 198) {
      const d = (await it.next()).value as Delivery;
      rest.push(d.topic);
      d.ack();
    }
    await Promise.all(flooding);
    const floodOrder = [...topics, ...rest].filter((t) => t !== 'cmd.honest');
    assert.deepEqual(
      floodOrder,
      Array.from({ length: 200 }, (_, i) => `cmd.f${i}`),
    );
    await Promise.all([flood.close(), honest.close(), consumer.close()]);
  });
});
