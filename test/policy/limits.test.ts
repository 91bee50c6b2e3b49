import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkLimits,
  Limiter,
  LimitsInputError,
  RateLimitedError,
  type Subject,
  TokenBucket,
} from '../../src/policy/index.js';

const bob: Subject = { agent: 'bob', role: 'agent' };
const ann: Subject = { agent: 'ann', role: 'agent' };
const llm: Subject = { agent: 'llm', role: 'restricted' };

/** The RateLimitedError `f` throws (failing when it throws nothing). */
function refusal(f: () => void): RateLimitedError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RateLimitedError);
    return e;
  }
  return assert.fail('not refused');
}

describe('rate limits', () => {
  it('a token bucket gives its burst, then refills at its rate, never above the burst', () => {
    const b = new TokenBucket({ rate: 10, burst: 5 }, 0);
    for (let i = 0; i < 5; i++) assert.equal(b.take(1, 0), true);
    assert.equal(b.take(1, 0), false);
    assert.equal(b.take(1, 99), false, '0.99 tokens after 99 ms');
    assert.equal(b.take(1, 100), true);
    assert.equal(b.take(5, 10_000), true);
    assert.equal(b.take(1, 10_000), false, 'capped at the burst');
  });

  it('limits each agent on its own; a refusal says why and charges nothing', () => {
    let now = 0;
    const l = new Limiter({ roles: { agent: { messages: { rate: 100, burst: 10 } } } }, () => now);
    for (let i = 0; i < 10; i++) l.charge(bob, 1);
    assert.throws(
      () => l.charge(bob, 1),
      (e: unknown) =>
        e instanceof RateLimitedError && /bob is over its rate/.test((e as Error).message),
    );
    l.charge(ann, 10); // ann has her own bucket
    assert.throws(() => l.charge(bob, 5), RateLimitedError);
    now = 30; // 3 tokens back
    l.charge(bob, 3);
    assert.deepEqual(l.refused, { agent: 2, commands: 0, topic: 0, payload: 0 });
  });

  it('limits kernel commands apart from messages, and tells a refused caller when to come back', () => {
    let now = 0;
    const l = new Limiter(
      {
        roles: {
          agent: { messages: { rate: 1000, burst: 1000 }, commands: { rate: 10, burst: 5 } },
        },
      },
      () => now,
    );
    l.charge(bob, 5, 0, [], 5);
    l.charge(bob, 100); // messages that are not commands still pass
    const e = refusal(() => l.charge(bob, 2, 0, [], 2));
    assert.match(e.message, /kernel commands/);
    assert.equal(e.details.retry_after_ms, 200, '2 commands at 10/s');
    const over = refusal(() => l.charge(bob, 6, 0, [], 6));
    assert.equal(over.details.retry_after_ms, 1000, 'a batch above the burst never passes: 1 s');
    now = 200;
    l.charge(bob, 2, 0, [], 2);
    assert.deepEqual(l.refused, { agent: 0, commands: 2, topic: 0, payload: 0 });
  });

  it('limits a topic pattern across all its senders, and caps payloads per role', () => {
    let now = 0;
    const l = new Limiter(
      {
        roles: { restricted: { maxPayload: 100 } },
        topics: { 'jit.sws.*.patch': { rate: 1, burst: 3 } },
      },
      () => now,
    );
    l.charge(bob, 2, 0, ['jit.sws.a.patch', 'jit.sws.b.patch']);
    l.charge(ann, 1, 0, ['jit.sws.a.patch']);
    assert.throws(() => l.charge(ann, 1, 0, ['jit.sws.c.patch']), /jit\.sws\.\*\.patch is over/);
    l.charge(ann, 1, 0, ['team.chat']);
    now = 1000;
    l.charge(ann, 1, 0, ['jit.sws.c.patch']);
    l.charge(llm, 1, 100);
    assert.throws(() => l.charge(llm, 1, 101), /101 bytes is over the 100/);
    l.charge(bob, 1, 10_000_000); // no cap for agents
  });

  it('refuses a malformed limits file with what is wrong', () => {
    for (const [v, msg] of [
      [[], /limits are/],
      [{ roles: { agent: { messages: { rate: 0, burst: 1 } } } }, /rate/],
      [{ roles: { agent: { maxPayload: -1 } } }, /maxPayload/],
      [{ roles: { agent: { speed: 1 } } }, /no field speed/],
      [{ topics: { x: { rate: 1 } } }, /burst/],
      [{ nope: 1 }, /no field nope/],
    ] as const)
      assert.throws(
        () => checkLimits(v),
        (e: unknown) => e instanceof LimitsInputError && msg.test((e as Error).message),
      );
    assert.deepEqual(checkLimits({ topics: { 'a.>': { rate: 5, burst: 5 } } }).topics, {
      'a.>': { rate: 5, burst: 5 },
    });
  });
});
