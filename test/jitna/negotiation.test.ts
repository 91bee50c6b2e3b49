/**
 * The negotiation state machine (issue 7): the documented conversations, each rule, and seeded
 * property tests: random step sequences never reach an illegal state, and every conversation has
 * ended by its deadline. Discovery ranking cases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CapabilityCard,
  CapabilityRegistry,
  createPacket,
  NEGOTIATION_KINDS,
  Negotiation,
  type NegotiationKind,
  type NegotiationState,
  rankCards,
  type Step,
  stepOf,
  stepPayload,
  TERMINAL_STATES,
} from '../../src/jitna/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

const T0 = 1_000_000;
const I = 'alice';
const R = 'bob';
let ids = 0;
const step = (from: string, seq: number, kind: NegotiationKind, o: Partial<Step> = {}): Step => ({
  from,
  seq,
  kind,
  packetId: `p${ids++}`,
  ...o,
});
const offer = (id: string, version: number, t = 1): Partial<Step> => ({
  offerId: id,
  offerVersion: version,
  terms: { t },
});
const fresh = (o: Partial<ConstructorParameters<typeof Negotiation>[0]> = {}): Negotiation =>
  new Negotiation({ id: 'c', initiator: I, responder: R, now: T0, ...o });
const taken = (n: Negotiation, s: Step, now = T0): NegotiationState => {
  const r = n.receive(s, now);
  assert.ok(r.taken, r.taken ? '' : `${s.kind} by ${s.from}: ${r.why} ${r.detail}`);
  return n.state;
};
const refused = (n: Negotiation, s: Step, now = T0): string => {
  const r = n.receive(s, now);
  assert.equal(r.taken, false, `${s.kind} by ${s.from} should be refused`);
  return r.taken ? '' : r.why;
};

describe('jitna - negotiation', () => {
  it('runs the documented conversation: PROPOSE, COUNTER, ACCEPT, COMPLETE', () => {
    const n = fresh();
    assert.equal(taken(n, step(I, 0, 'propose', offer('o1', 1))), 'proposed');
    assert.equal(
      taken(n, step(R, 0, 'counter', { ...offer('o1', 2), terms: { need: 'schema' } })),
      'countered',
    );
    assert.equal(taken(n, step(I, 1, 'accept', { offerId: 'o1', offerVersion: 2 })), 'agreed');
    assert.deepEqual(n.agreed, { id: 'o1', version: 2, author: R, terms: { need: 'schema' } });
    assert.equal(taken(n, step(R, 1, 'complete', { result: { rows: 20 } })), 'completed');
    assert.deepEqual(n.result, { rows: 20 });
    assert.equal(refused(n, step(R, 2, 'cancel')), 'closed');
  });

  it('holds ACCEPT to the standing offer of the other party', () => {
    const n = fresh();
    taken(n, step(I, 0, 'propose', offer('o1', 1)));
    assert.equal(refused(n, step(I, 1, 'accept', { offerId: 'o1', offerVersion: 1 })), 'refused');
    taken(n, step(R, 0, 'counter', offer('o1', 2)));
    // the old version, another id, or the counter's own author: refused, and nothing moved
    assert.equal(refused(n, step(I, 1, 'accept', { offerId: 'o1', offerVersion: 1 })), 'refused');
    assert.equal(refused(n, step(I, 1, 'accept', { offerId: 'o9', offerVersion: 2 })), 'refused');
    assert.equal(refused(n, step(R, 1, 'accept', { offerId: 'o1', offerVersion: 2 })), 'refused');
    assert.equal(n.state, 'countered');
    // a counter must raise the version; a stranger is no party
    assert.equal(refused(n, step(I, 1, 'counter', offer('o1', 2))), 'refused');
    assert.equal(refused(n, step('mallory', 0, 'reject')), 'refused');
    assert.equal(taken(n, step(I, 1, 'propose', offer('o1', 3))), 'proposed');
    assert.equal(taken(n, step(R, 1, 'reject', { reason: 'not qualified' })), 'rejected');
    assert.equal(n.reason, 'not qualified');
  });

  it('takes duplicates once, holds early steps until their turn, refuses stale ones', () => {
    const n = fresh();
    const p = step(I, 0, 'propose', offer('o1', 1));
    taken(n, p);
    assert.equal(refused(n, p), 'duplicate');
    // bob's seq 1 (complete) comes before his seq 0 (accept): held, then both go, in order
    const accept = step(R, 0, 'accept', { offerId: 'o1', offerVersion: 1 });
    const complete = step(R, 1, 'complete', { result: {} });
    assert.equal(refused(n, complete), 'held');
    const r = n.receive(accept, T0);
    assert.ok(r.taken);
    assert.deepEqual(
      r.applied.map((s) => s.kind),
      ['accept', 'complete'],
    );
    assert.equal(n.state, 'completed');
    const m = fresh();
    taken(m, step(I, 0, 'propose', offer('o1', 1)));
    assert.equal(refused(m, step(I, 0, 'cancel')), 'stale');
  });

  it('limits counter rounds and expires on a silent step or the deadline', () => {
    const n = fresh({ maxCounterRounds: 2 });
    taken(n, step(I, 0, 'propose', offer('o', 1)));
    taken(n, step(R, 0, 'counter', offer('o', 2)));
    taken(n, step(I, 1, 'counter', offer('o', 3)));
    assert.equal(refused(n, step(R, 1, 'counter', offer('o', 4))), 'refused');
    assert.equal(n.counterRounds, 2);
    assert.equal(n.tick(T0 + 29_999), 'countered');
    assert.equal(n.tick(T0 + 30_000), 'expired');
    const m = fresh({ deadline: T0 + 60_000 });
    taken(m, step(I, 0, 'propose', offer('o', 1)));
    taken(m, step(R, 0, 'accept', { offerId: 'o', offerVersion: 1 }), T0 + 1000);
    // agreed: the work has until the deadline, whatever the step timeout
    assert.equal(m.tick(T0 + 45_000), 'agreed');
    assert.equal(refused(m, step(R, 1, 'complete'), T0 + 60_000), 'closed');
    assert.equal(m.state, 'expired');
  });

  it('reads steps from packets and writes their payloads', () => {
    const p = {
      ...createPacket({
        source: I,
        target: R,
        type: 'negotiation',
        payload: stepPayload('propose', { offerId: 'o', offerVersion: 1, terms: { a: 1 } }),
        seq: 0,
      }),
    };
    const s = stepOf(p);
    assert.ok(typeof s !== 'string');
    assert.deepEqual(
      { ...s, packetId: '' },
      {
        from: I,
        packetId: '',
        seq: 0,
        kind: 'propose',
        offerId: 'o',
        offerVersion: 1,
        terms: { a: 1 },
      },
    );
    assert.equal(typeof stepOf({ ...p, payload: { negotiation: { kind: 'bid' } } }), 'string');
    assert.equal(typeof stepOf({ ...p, seq: undefined } as never), 'string');
    assert.equal(typeof stepOf({ ...p, payload: {} }), 'string');
  });

  it('never reaches an illegal state, and always ends by its deadline (seeded)', () => {
    const seed = testSeed();
    const parties = [I, R, 'mallory'];
    const kinds = NEGOTIATION_KINDS;
    const arb = fc.array(
      fc.record({
        from: fc.constantFrom(...parties),
        kind: fc.constantFrom(...kinds),
        offerId: fc.constantFrom('o1', 'o2', undefined),
        version: fc.integer({ min: 1, max: 6 }),
        terms: fc.boolean(),
        seqJump: fc.constantFrom(0, 0, 0, 1, -1),
        dup: fc.integer({ min: 0, max: 9 }),
        dt: fc.integer({ min: 0, max: 40_000 }),
      }),
      { maxLength: 30 },
    );
    try {
      fc.assert(
        fc.property(arb, (moves) => {
          const deadline = T0 + 120_000;
          const n = fresh({ deadline, maxCounterRounds: 3 });
          const next = new Map<string, number>();
          const sent: Step[] = [];
          let now = T0;
          for (const m of moves) {
            now += m.dt;
            const seq = Math.max(0, (next.get(m.from) ?? 0) + m.seqJump);
            const s: Step =
              m.dup === 0 && sent.length > 0
                ? sent[sent.length - 1]!
                : {
                    from: m.from,
                    seq,
                    kind: m.kind,
                    packetId: `p${ids++}`,
                    ...(m.offerId !== undefined
                      ? { offerId: m.offerId, offerVersion: m.version }
                      : {}),
                    ...(m.terms ? { terms: { v: m.version } } : {}),
                  };
            sent.push(s);
            const before = {
              state: n.state,
              standing: n.standing,
              rounds: n.counterRounds,
              agreed: n.agreed,
            };
            const r = n.receive(s, now);
            if (r.taken) for (const a of r.applied) next.set(a.from, a.seq + 1);
            else if (r.why !== 'closed' || !TERMINAL_STATES.has(before.state)) {
              // a refusal moves nothing (a closing tick may end an open negotiation)
              if (r.why !== 'closed') {
                assert.equal(n.state, before.state);
                assert.deepEqual(n.standing, before.standing);
              }
            }
            if (TERMINAL_STATES.has(before.state))
              assert.equal(n.state, before.state, 'a terminal state is final');
            assert.ok(n.counterRounds <= 3);
            if (n.state === 'agreed' && before.state !== 'agreed') {
              const acc = r.taken ? r.applied.find((a) => a.kind === 'accept') : undefined;
              assert.ok(acc !== undefined, 'agreement comes from an accept');
              assert.notEqual(acc.from, n.agreed!.author, 'never one’s own offer');
              assert.equal(acc.offerVersion, n.agreed!.version);
            }
            if (n.state === 'completed' || n.state === 'failed') {
              const last = n.history.at(-1)!;
              assert.equal(last.from, R);
              assert.ok(n.history.some((h) => h.kind === 'accept'));
            }
          }
          assert.ok(TERMINAL_STATES.has(n.tick(deadline)), 'ended by the deadline');
        }),
        { seed, numRuns: iterations(2000, 100_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'jitna/negotiation')}`, {
        cause: e,
      });
    }
  });
});

const card = (over: Partial<CapabilityCard>): CapabilityCard => ({
  adapter_id: 'a',
  name: 'agent',
  version: '1.0.0',
  supported_actions: ['analyze'],
  supported_formats: ['ts'],
  security_level: 2,
  status: 'healthy',
  load: 0.5,
  public_key_fingerprint: 'ab'.repeat(32),
  ...over,
});

describe('jitna - discovery', () => {
  it('ranks healthy first, then the lowest sufficient level, the lowest load, the id', () => {
    const cards = [
      card({ adapter_id: 'degraded', status: 'degraded', security_level: 2, load: 0 }),
      card({ adapter_id: 'level5', security_level: 5, load: 0 }),
      card({ adapter_id: 'busy', load: 0.9 }),
      card({ adapter_id: 'b-idle', load: 0.1 }),
      card({ adapter_id: 'a-idle', load: 0.1 }),
      card({ adapter_id: 'level1', security_level: 1, load: 0 }),
      card({ adapter_id: 'offline', status: 'offline', load: 0 }),
      card({ adapter_id: 'no-format', supported_formats: ['py'] }),
      card({ adapter_id: 'no-action', supported_actions: ['deploy'] }),
    ];
    const q = { action: 'analyze', format: 'ts', minSecurityLevel: 2 };
    const want = ['a-idle', 'b-idle', 'busy', 'level5', 'degraded'];
    assert.deepEqual(
      rankCards(cards, q).map((c) => c.adapter_id),
      want,
    );
    assert.deepEqual(
      rankCards([...cards].reverse(), q).map((c) => c.adapter_id),
      want,
      'order-free',
    );
    assert.deepEqual(
      rankCards(cards, { ...q, exclude: ['a-idle'], status: ['healthy'] }).map((c) => c.adapter_id),
      ['b-idle', 'busy', 'level5'],
    );
  });

  it('keeps a card while heartbeats come, and only the sender’s own', () => {
    const reg = new CapabilityRegistry({ ttlMs: 15_000 });
    const hb = (source: string, c: CapabilityCard, key = c.public_key_fingerprint) => ({
      ...createPacket({ source, target: '*', type: 'heartbeat', payload: { card: c as never } }),
      key_id: key,
    });
    assert.equal(reg.hear(hb('a', card({})), T0), undefined);
    assert.match(reg.hear(hb('mallory', card({})), T0)!, /announced by mallory/);
    assert.match(reg.hear(hb('a', card({}), 'cd'.repeat(32)), T0)!, /fingerprint/);
    assert.match(reg.hear(hb('a', card({ security_level: 9 })), T0)!, /security_level/);
    assert.equal(reg.query({ action: 'analyze' }, T0 + 14_999).length, 1);
    assert.equal(
      reg.query({ action: 'analyze' }, T0 + 15_000).length,
      0,
      'expired without a heartbeat',
    );
  });
});
