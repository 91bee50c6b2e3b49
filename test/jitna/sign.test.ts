/**
 * Whole-packet signatures (issue 7): a tamper test for every covered field, the verifier's order
 * and typed reasons (expiry, unbound key, wrong key, wrong audience, replay), and the legacy
 * verifier against golden vectors made by Python's own json.dumps (fixtures/jitna/legacy-vectors.py).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { toHex } from '../../src/codec/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import {
  createPacket,
  FIELDS,
  type JitnaPacket,
  LEGACY_FIELDS,
  legacyHash,
  PacketInvalidError,
  PacketRefusedError,
  PacketVerifier,
  PyFloat,
  type PyJson,
  parsePyJson,
  pyFloatRepr,
  pyJsonDumps,
  ReplayCache,
  signPacket,
  verifyLegacyPacket,
} from '../../src/jitna/index.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const alice = KeyPair.fromSeed(new Uint8Array(32).fill(1));
const bob = KeyPair.fromSeed(new Uint8Array(32).fill(2));
const trust = TrustStore.memory([
  { agent: 'alice', publicKey: alice.publicKey, role: 'agent' },
  { agent: 'bob', publicKey: bob.publicKey, role: 'agent' },
]);
const signed = (over: Partial<JitnaPacket> = {}, now = NOW): JitnaPacket =>
  signPacket(
    {
      ...createPacket({
        source: 'alice',
        target: 'bob',
        type: 'intent_request',
        payload: { action: 'analyze', n: 1 },
        correlationId: 'c1',
        seq: 0,
        metadata: { m: 1 },
        now,
      }),
      hop_trace: ['alice'],
      ttl: 8,
      compressed: false,
      in_reply_to: 'p0',
      ...over,
    },
    keySigner('alice', alice),
    { now },
  );
const verifier = (o: { audience?: string; now?: number } = {}): PacketVerifier =>
  new PacketVerifier({
    keys: trust,
    now: () => o.now ?? NOW,
    ...(o.audience ? { audience: o.audience } : {}),
  });

/** A different value of the same kind, still well-formed, for every field. */
const changed: Record<string, (p: JitnaPacket) => unknown> = {
  packet_id: () => '00000000-0000-4000-8000-000000000000',
  source_agent_id: () => 'bob',
  target_agent_id: () => 'carol',
  message_type: () => 'intent_response',
  payload: () => ({ action: 'delete', n: 1 }),
  timestamp: () => '2026-11-23T09:59:59.000Z',
  schema_version: () => '2.0',
  priority: () => 1,
  correlation_id: () => 'c2',
  in_reply_to: () => 'p9',
  metadata: () => ({ m: 2 }),
  status: () => 'processed',
  hop_trace: () => ['alice', 'mallory'],
  ttl: () => 64,
  compressed: () => true,
  expires_at: () => '2026-11-23T10:05:00.000Z',
  nonce: () => 'ff'.repeat(16),
  seq: () => 7,
  key_id: (p) => `${p.key_id!.slice(0, 63)}0`,
};

describe('jitna - signatures', () => {
  it('signs the whole packet: a signed packet verifies, and changing any field breaks it', () => {
    const p = signed();
    assert.deepEqual(verifier().verify(p), { ok: true, packet: p, coverage: 'full' });
    for (const f of FIELDS) {
      if (f === 'signature') continue;
      const make = changed[f];
      assert.ok(make !== undefined, `a tamper case for ${f}`);
      const q = { ...p, [f]: make(p) } as JitnaPacket;
      const v = verifier().verify(q);
      assert.equal(v.ok, false, `changing ${f} must be detected`);
      if (!v.ok)
        assert.ok(
          ['bad-signature', 'invalid', 'wrong-key', 'unknown-sender', 'wrong-audience'].includes(
            v.reason,
          ),
          `${f}: ${v.reason}`,
        );
    }
    // an unknown field added after signing is covered too
    const extra = verifier().verify({ ...p, extra: 1 });
    assert.equal(extra.ok, false);
    // the signature itself
    const sig = verifier().verify({
      ...p,
      signature: `${p.signature!.slice(0, 127)}${p.signature!.endsWith('0') ? '1' : '0'}`,
    });
    assert.deepEqual(sig.ok ? 'ok' : sig.reason, 'bad-signature');
  });

  it('refuses in order, each with its reason: expired, unsigned, wrong audience, unbound, wrong key, bad signature, replayed', () => {
    const reason = (v: ReturnType<PacketVerifier['verify']>): string => (v.ok ? 'ok' : v.reason);
    const p = signed();
    // expired: a minute and a moment later (even with a bad signature: expiry is checked first)
    assert.equal(
      reason(verifier({ now: NOW + 61_000 }).verify({ ...p, signature: '00'.repeat(64) })),
      'expired',
    );
    const { signature: _, ...bare } = p;
    assert.equal(reason(verifier().verify({ ...bare, expires_at: p.expires_at })), 'unsigned');
    assert.equal(reason(verifier({ audience: 'carol' }).verify(p)), 'wrong-audience');
    assert.equal(reason(verifier({ audience: 'bob' }).verify(p)), 'ok');
    assert.equal(
      reason(verifier({ audience: 'carol' }).verify(signed({ target_agent_id: '*' }))),
      'ok',
    );
    // a key nobody bound to the sender; a key bound to someone else
    const stranger = KeyPair.generate();
    const fromStranger = signPacket(
      {
        ...bare,
        source_agent_id: 'mallory',
        key_id: undefined,
        signature: undefined,
      } as JitnaPacket,
      keySigner('mallory', stranger),
      { now: NOW },
    );
    assert.equal(reason(verifier().verify(fromStranger)), 'unknown-sender');
    const aliceByBob = signPacket(
      { ...bare, key_id: undefined } as JitnaPacket,
      keySigner('alice', bob),
      { now: NOW },
    );
    assert.equal(reason(verifier().verify(aliceByBob)), 'wrong-key');
    // the same packet twice: taken once, then refused until it expires
    const v = verifier();
    assert.equal(reason(v.verify(p)), 'ok');
    assert.equal(reason(v.verify(p)), 'replayed');
    // a new id with the old nonce, or the old id with a new nonce: still a replay
    const v2 = new PacketVerifier({ keys: trust, now: () => NOW, replay: v.replay });
    assert.equal(reason(v2.verify(signed({ nonce: p.nonce }))), 'replayed');
    assert.equal(reason(v2.verify(signed({ packet_id: p.packet_id }))), 'replayed');
    // a forgery does not enter the cache: the genuine packet is still taken after it
    const fresh = signed();
    const v3 = verifier();
    assert.equal(reason(v3.verify({ ...fresh, priority: 1 })), 'bad-signature');
    assert.equal(reason(v3.verify(fresh)), 'ok');
    // check() throws the reason
    assert.throws(
      () => v3.check(fresh),
      (e: unknown) => e instanceof PacketRefusedError && e.details.reason === 'replayed',
    );
  });

  it('refuses to sign for another sender or an invalid packet, and bounds a packet’s life', () => {
    assert.throws(
      () =>
        signPacket(
          createPacket({ source: 'bob', target: 'alice', type: 'heartbeat' }),
          keySigner('alice', alice),
        ),
      PacketInvalidError,
    );
    assert.throws(
      () =>
        signPacket(
          { ...createPacket({ source: 'alice', target: 'bob', type: 'heartbeat' }), priority: 9 },
          keySigner('alice', alice),
        ),
      PacketInvalidError,
    );
    const long = signed({ expires_at: '2026-11-23T11:00:00.000Z' });
    const v = verifier().verify(long);
    assert.equal(v.ok ? 'ok' : v.reason, 'invalid');
  });

  it('keeps the replay cache bounded, dropping expired entries first', () => {
    const c = new ReplayCache(4);
    c.add('a', 'n1', 'i1', NOW + 10, NOW);
    c.add('a', 'n2', 'i2', NOW + 1000, NOW);
    assert.equal(c.size, 4);
    c.add('a', 'n3', 'i3', NOW + 1000, NOW + 20); // n1/i1 expired: they go, not n2
    assert.equal(c.size, 4);
    assert.equal(c.has('a', 'n2', 'x', NOW + 20), true);
    assert.equal(c.evicted, 0);
    c.add('a', 'n4', 'i4', NOW + 1000, NOW + 20); // full of live entries: the oldest go
    assert.equal(c.evicted, 2);
    assert.equal(c.has('a', 'n2', 'i2', NOW + 20), false);
  });
});

interface LegacyVector {
  readonly name: string;
  readonly packet: string;
  readonly preimage: string;
  readonly hash: string;
}
const vectors = new URL('../../../test/fixtures/jitna/legacy-vectors.json', import.meta.url);

describe('jitna - the reference’s legacy signatures', () => {
  it('hashes as Python does (json.dumps with sort_keys, ASCII escapes, float repr), golden vectors', async () => {
    const golden = JSON.parse(await readFile(vectors, 'utf8')) as LegacyVector[];
    assert.ok(golden.length >= 8);
    for (const g of golden) {
      const p = parsePyJson(g.packet) as Record<string, PyJson>;
      const six = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, p[f]]));
      assert.equal(pyJsonDumps(six as Record<string, PyJson>), g.preimage, g.name);
      assert.equal(legacyHash(p), g.hash, g.name);
    }
  });

  it('writes floats as Python’s repr', () => {
    for (const [x, want] of [
      [1, '1.0'],
      [0.1, '0.1'],
      [1e-5, '1e-05'],
      [1e16, '1e+16'],
      [1.5e16, '1.5e+16'],
      [123456789012345.6, '123456789012345.6'],
      [0.0001, '0.0001'],
      [-2.5e-7, '-2.5e-07'],
      [1e22, '1e+22'],
      [-0, '-0.0'],
    ] as const)
      assert.equal(pyFloatRepr(x), want, String(x));
    assert.equal(pyJsonDumps({ a: new PyFloat(2) }), '{"a": 2.0}');
    assert.equal(pyJsonDumps({ a: 2 }), '{"a": 2}');
  });

  it('verifies a packet signed the reference’s way, reports partial coverage, and shows what it leaves open', async () => {
    const golden = JSON.parse(await readFile(vectors, 'utf8')) as LegacyVector[];
    for (const g of golden) {
      // sign as the reference does: Ed25519 over the ASCII of the hex digest, in hex
      const sig = toHex(alice.sign(new TextEncoder().encode(g.hash)));
      const text = g.packet.replace('"signature": null', `"signature": "${sig}"`);
      const v = verifyLegacyPacket(text, trust);
      assert.equal(v.ok, true, `${g.name}: ${v.ok ? '' : v.detail}`);
      if (v.ok) {
        assert.equal(v.coverage, 'partial');
        assert.deepEqual([...v.covered].sort(), [
          'message_type',
          'payload',
          'schema_version',
          'source_agent_id',
          'target_agent_id',
          'timestamp',
        ]);
      }
      // a covered field changed: refused
      const tampered = text.replace('"target_agent_id": "', '"target_agent_id": "x');
      const t = verifyLegacyPacket(tampered, trust);
      assert.equal(t.ok ? 'ok' : t.reason, 'bad-signature', g.name);
      // an uncovered one changed: it still verifies — which is why it is flagged partial
      const reprioritised = text.replace('"priority": 3', '"priority": 1');
      assert.equal(verifyLegacyPacket(reprioritised, trust).ok, true);
      // the key must be the one bound to the sender
      const bySomeoneElse = JSON.parse(text) as Record<string, unknown>;
      bySomeoneElse.source_agent_id = 'bob';
      assert.equal(verifyLegacyPacket(bySomeoneElse as never, trust).ok, false);
    }
    const first = golden[0]!;
    const sig = toHex(alice.sign(new TextEncoder().encode(first.hash)));
    const withFp = JSON.parse(
      first.packet.replace('"signature": null', `"signature": "${sig}"`),
    ) as Record<string, unknown>;
    withFp.metadata = { sender_fingerprint: 'ab'.repeat(32) };
    const w = verifyLegacyPacket(withFp as never, trust);
    assert.equal(w.ok ? 'ok' : w.reason, 'wrong-key');
    const unsigned = verifyLegacyPacket(first.packet, trust);
    assert.equal(unsigned.ok ? 'ok' : unsigned.reason, 'unsigned');
    assert.equal((verifyLegacyPacket('{"a": ', trust) as { reason: string }).reason, 'invalid');
  });
});
