/**
 * The JITNA packet (issue 7): the validator (the reference's messages where its check is the same,
 * and every check it lacked), the normalizer's precedence, and the two forms, converted both ways
 * without loss (seeded property test) and pinned by a golden fixture.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../src/codec/index.js';
import { KeyPair, keySigner } from '../../src/identity/index.js';
import {
  createPacket,
  type JitnaPacket,
  normalizePacket,
  PacketInputError,
  packetFromCbor,
  packetFromJson,
  packetSigningBytes,
  packetToCbor,
  packetToJson,
  signPacket,
  validatePacket,
} from '../../src/jitna/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const base = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  packet_id: '3f2c8a1e-6b4d-4e2f-9a7c-1d2e3f4a5b6c',
  source_agent_id: 'alice',
  target_agent_id: 'bob',
  message_type: 'intent_request',
  payload: { action: 'analyze' },
  timestamp: '2026-11-23T09:59:59.000Z',
  schema_version: '3.0',
  priority: 3,
  correlation_id: 'c-1',
  metadata: {},
  status: 'created',
  ...over,
});
const codes = (p: unknown): string[] =>
  validatePacket(p, { now: NOW }).errors.map((e) => `${e.code}:${e.field}`);
const messages = (p: unknown): string[] =>
  validatePacket(p, { now: NOW }).errors.map((e) => e.message);

describe('jitna - validator', () => {
  it('takes a well-formed packet, with no warnings but the missing expiry', () => {
    const r = validatePacket(base(), { now: NOW });
    assert.equal(r.is_valid, true, JSON.stringify(r.errors));
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['no_expiry'],
    );
  });

  it('says what the reference says where its check is the same', () => {
    // the reference's own strings (rct_control_plane/jitna_protocol.py, JITNAValidator)
    assert.deepEqual(messages(base({ source_agent_id: '  ' })), [
      "Required field 'source_agent_id' is empty or missing",
    ]);
    assert.deepEqual(messages(base({ packet_id: '' })), [
      "Required field 'packet_id' is empty or missing",
    ]);
    assert.deepEqual(messages(base({ priority: 7 })), ['Invalid priority 7; must be 1–5']);
    assert.deepEqual(messages(base({ schema_version: '2.0', message_type: 'stream_chunk' })), [
      "Invalid message_type 'stream_chunk'; must be one of ['intent_request', 'intent_response', 'negotiation', 'confirmation', 'status_update', 'error', 'heartbeat']",
    ]);
    assert.deepEqual(messages(base({ payload: { big: 'x'.repeat(1_048_576) } })), [
      'Payload exceeds maximum size of 1048576 bytes',
    ]);
    const warned = validatePacket(base({ payload: {}, correlation_id: undefined }), { now: NOW });
    assert.deepEqual(warned.warnings.map((w) => w.message).slice(0, 2), [
      'Packet has empty payload',
      'No correlation_id set; message tracing will be limited',
    ]);
  });

  it('refuses what the reference let through, each with its own code', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ priority: true }, 'priority:priority'],
      [{ priority: 3.0001 }, 'priority:priority'],
      [{ priority: '3' }, 'priority:priority'],
      [{ packet_id: 'not-a-uuid' }, 'uuid:packet_id'],
      [{ packet_id: '3F2C8A1E-6B4D-4E2F-9A7C-1D2E3F4A5B6C' }, 'uuid:packet_id'],
      [{ target_agent_id: 'alice' }, 'self_addressed:target_agent_id'],
      [{ timestamp: '2026-11-23 10:00:00' }, 'timestamp:timestamp'],
      [{ timestamp: '2026-02-30T10:00:00Z' }, 'timestamp:timestamp'],
      [{ timestamp: '2026-11-23T12:00:00+02:00' }, 'timestamp:timestamp'],
      [{ timestamp: '2026-11-23T11:00:00Z' }, 'timestamp_skew:timestamp'],
      [{ expires_at: '2026-11-23T09:59:59.500Z' }, 'expired:expires_at'],
      [{ expires_at: '2026-11-23T09:00:00Z' }, 'expires_at:expires_at'],
      [{ status: 'SENT' }, 'status:status'],
      [{ message_type: 'INTENT_REQUEST' }, 'message_type:message_type'],
      [{ schema_version: '1.0' }, 'schema_version:schema_version'],
      [{ schema_version: '2.0', ttl: 3 }, 'v3_field:ttl'],
      [{ ttl: -1 }, 'ttl:ttl'],
      [{ ttl: 1.5 }, 'ttl:ttl'],
      [{ hop_trace: ['a', 'b', 'a'] }, 'hop_trace:hop_trace'],
      [{ hop_trace: 'a' }, 'hop_trace:hop_trace'],
      [{ payload: [] }, 'payload:payload'],
      [{ payload: { b: new Uint8Array(2) } }, 'payload:payload'],
      [{ payload: { n: 2 ** 60 } }, 'payload:payload'],
      [{ metadata: { m: 'x'.repeat(70_000) } }, 'metadata_size:metadata'],
      [{ nonce: 'abc' }, 'nonce:nonce'],
      [{ seq: -1 }, 'seq:seq'],
      [{ key_id: 'AB'.repeat(32) }, 'key_id:key_id'],
      [{ signature: 'ab'.repeat(64) }, 'signature_fields:key_id'],
      [{ compressed: true }, 'compressed:payload'],
      [{ source_agent_id: '*' }, 'agent_id:source_agent_id'],
      [{ source_agent_id: 'a\u0000b' }, 'agent_id:source_agent_id'],
    ];
    for (const [over, want] of cases)
      assert.ok(
        codes(base(over)).includes(want),
        `${JSON.stringify(over)}: ${codes(base(over)).join(' ')}`,
      );
    assert.deepEqual(codes('a packet'), ['not_a_packet:']);
    assert.deepEqual(codes(null), ['not_a_packet:']);
    // an unknown field is kept and warned about, never an error
    const r = validatePacket(base({ extra: 1 }), { now: NOW });
    assert.equal(r.is_valid, true);
    assert.ok(r.warnings.some((w) => w.code === 'unknown_field' && w.field === 'extra'));
    // a broadcast target is an audience, not a sender
    assert.equal(validatePacket(base({ target_agent_id: '*' }), { now: NOW }).is_valid, true);
  });

  it('never throws, whatever it is given (seeded)', () => {
    const seed = testSeed();
    try {
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.constantFrom(...Object.keys(base()), 'ttl', 'hop_trace', 'nonce', 'x'),
            fc.anything(),
          ),
          (m) => {
            const r = validatePacket({ ...base(), ...m }, { now: NOW });
            assert.equal(r.is_valid, r.errors.length === 0);
          },
        ),
        { seed, numRuns: iterations(2000, 100_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'jitna/packet')}`, { cause: e });
    }
  });
});

describe('jitna - normalizer', () => {
  it('maps aliases, the canonical key winning, then the aliases in their listed order', () => {
    const p = normalizePacket(
      {
        from: 'x',
        src: 'y',
        source_agent_id: 'alice',
        to: 'bob',
        body: { b: 1 },
        data: { d: 1 },
        prio: '2',
        id: 'ID',
      },
      { now: NOW },
    );
    assert.equal(p.source_agent_id, 'alice');
    assert.equal(p.target_agent_id, 'bob');
    assert.deepEqual(p.payload, { d: 1 }, 'data comes before body in the alias list');
    assert.equal(p.priority, 2);
    assert.equal(p.packet_id, 'ID');
    const q = normalizePacket({ src: 'y', from: 'x', dst: 'bob' }, { now: NOW });
    assert.equal(q.source_agent_id, 'y', 'src before from, whatever the input order');
  });

  it('lowercases enums, maps the other sources’ statuses, keeps status, fills defaults', () => {
    const p = normalizePacket(
      {
        source: 'alice',
        target: 'bob',
        type: 'INTENT_RESPONSE',
        status: 'COMPLETED',
        priority: 'HIGH',
      },
      { now: NOW },
    );
    assert.equal(p.message_type, 'intent_response');
    assert.equal(p.status, 'processed');
    assert.equal(p.priority, 2);
    assert.equal(p.timestamp, '2026-11-23T10:00:00.000Z');
    assert.equal(p.schema_version, '3.0');
    assert.match(p.packet_id, /^[0-9a-f-]{36}$/);
    for (const [given, want] of [
      ['SENT', 'dispatched'],
      ['PROCESSING', 'received'],
      ['RECEIVED', 'received'],
      ['FAILED', 'failed'],
      ['validated', 'validated'],
    ])
      assert.equal(normalizePacket({ status: given }).status, want);
    assert.equal(normalizePacket({ type: 'TASK_REQUEST' }).message_type, 'intent_request');
    // the RFC envelope's Unix milliseconds, and another offset, become UTC
    assert.equal(normalizePacket({ ts: NOW }).timestamp, '2026-11-23T10:00:00.000Z');
    assert.equal(
      normalizePacket({ ts: '2026-11-23T12:00:00+02:00' }).timestamp,
      '2026-11-23T10:00:00.000Z',
    );
    // null optional fields (as Python sends them) are left out; what it cannot mend stays for the validator
    const r = normalizePacket({ correlation_id: null, signature: null, priority: true });
    assert.equal('correlation_id' in r, false);
    assert.equal(r.priority, true as unknown as number);
    assert.throws(() => normalizePacket([1]), PacketInputError);
    assert.throws(() => normalizePacket('x'), PacketInputError);
  });

  it('turns a reference packet into one that validates', () => {
    const python = JSON.parse(
      '{"packet_id": "3f2c8a1e-6b4d-4e2f-9a7c-1d2e3f4a5b6c", "source_agent_id": "alice", "target_agent_id": "bob", "message_type": "intent_request", "payload": {"a": 1}, "timestamp": "2026-11-23T09:59:00.123456+00:00", "schema_version": "2.0", "priority": 3, "correlation_id": null, "signature": null, "metadata": {}, "status": "created"}',
    ) as unknown;
    const r = validatePacket(normalizePacket(python), { now: NOW });
    assert.equal(r.is_valid, true, JSON.stringify(r.errors));
  });
});

const fixture = new URL('../../../test/fixtures/jitna/packet-v1.json', import.meta.url);

describe('jitna - forms', () => {
  it('JSON and canonical CBOR convert both ways without loss (seeded)', () => {
    const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });
    const seed = testSeed();
    try {
      fc.assert(
        fc.property(fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 5 }), (payload) => {
          const p = { ...base(), payload } as unknown as JitnaPacket;
          if (!validatePacket(p, { now: NOW }).is_valid) return;
          const text = packetToJson(p);
          const viaCbor = packetFromCbor(packetToCbor(packetFromJson(text)));
          assert.equal(packetToJson(viaCbor), text);
          assert.deepEqual(packetToCbor(viaCbor), packetToCbor(p));
        }),
        { seed, numRuns: iterations(1000, 50_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'jitna/packet')}`, { cause: e });
    }
  });

  it('a signed packet gives the committed JSON, CBOR and signing bytes (golden)', async () => {
    const key = KeyPair.fromSeed(new Uint8Array(32).fill(7));
    const p = signPacket(
      {
        ...createPacket({
          source: 'alice',
          target: 'bob',
          type: 'negotiation',
          payload: {
            negotiation: {
              kind: 'propose',
              offer_id: 'o1',
              offer_version: 1,
              terms: { price: 2.5, tags: ['a', 'ü'] },
            },
          },
          priority: 1,
          correlationId: 'conv-1',
          seq: 0,
          metadata: { trace: 't' },
          now: NOW,
        }),
        packet_id: '3f2c8a1e-6b4d-4e2f-9a7c-1d2e3f4a5b6c',
        nonce: '00112233445566778899aabbccddeeff',
        hop_trace: ['alice'],
        ttl: 8,
      },
      keySigner('alice', key),
      { now: NOW },
    );
    const made = {
      json: packetToJson(p),
      cbor: toHex(packetToCbor(p)),
      signing_bytes: toHex(packetSigningBytes(p)),
      signature: p.signature,
    };
    if (process.env.JIT_WRITE_FIXTURES === '1')
      await writeFile(fixture, `${JSON.stringify(made, null, 2)}\n`);
    assert.deepEqual(made, JSON.parse(await readFile(fixture, 'utf8')));
    assert.equal(validatePacket(packetFromJson(made.json), { now: NOW }).is_valid, true);
  });

  it('keeps a "__proto__" key as data in both forms and through the normalizer', () => {
    const payload = JSON.parse('{"m": {"__proto__": "x"}, "__proto__": {"a": 1}}') as never;
    const p = { ...base(), payload } as unknown as JitnaPacket;
    const text = packetToJson(p);
    assert.match(text, /"__proto__":"x"/);
    assert.match(text, /"__proto__":\{"a":1\}/);
    assert.equal(packetToJson(packetFromCbor(packetToCbor(packetFromJson(text)))), text);
    const n = normalizePacket(JSON.parse('{"__proto__": {"polluted": true}, "src": "a"}'));
    assert.equal(Object.hasOwn(n, '__proto__'), true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses what is not a packet with a typed error', () => {
    assert.throws(() => packetFromJson('{'), PacketInputError);
    assert.throws(() => packetFromJson('[1]'), PacketInputError);
    assert.throws(() => packetFromCbor(new Uint8Array([0xff])), PacketInputError);
  });
});
