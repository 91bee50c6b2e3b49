/**
 * Compression (compress, then sign) and signed streams with checked reassembly (issue 7), and the
 * bounded packet registry that refuses duplicate ids.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import {
  compressPacket,
  createPacket,
  DuplicatePacketError,
  decompressPayload,
  type JitnaPacket,
  PacketRegistry,
  PacketVerifier,
  StreamAssembler,
  StreamError,
  signPacket,
  streamPackets,
  validatePacket,
} from '../../src/jitna/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const key = KeyPair.fromSeed(new Uint8Array(32).fill(3));
const signer = keySigner('alice', key);
const trust = TrustStore.memory([{ agent: 'alice', publicKey: key.publicKey, role: 'agent' }]);
const big = (): JitnaPacket =>
  createPacket({
    source: 'alice',
    target: 'bob',
    type: 'intent_response',
    payload: { text: 'ข้อมูล 😀 '.repeat(300), n: [1, 2.5, null, true] },
    correlationId: 'conv',
    now: NOW,
  });

describe('jitna - compression', () => {
  it('compresses, then signs: the signature verifies and the payload comes back', () => {
    const p = big();
    const c = signPacket(compressPacket(p), signer, { now: NOW });
    assert.equal(c.compressed, true);
    assert.ok(JSON.stringify(c.payload).length < JSON.stringify(p.payload).length / 4);
    const v = new PacketVerifier({ keys: trust, now: () => NOW }).verify(c);
    assert.equal(v.ok, true, v.ok ? '' : v.detail);
    assert.deepEqual(decompressPayload(c), p.payload);
    assert.equal(validatePacket(c, { now: NOW }).is_valid, true);
  });

  it('refuses what does not inflate, a bomb past 4 MiB, and zstd by name', () => {
    const p = compressPacket(big());
    assert.throws(
      () => decompressPayload({ ...p, payload: { compressed_data: 'bm90IHpsaWI=' } }),
      StreamError,
    );
    const bomb = deflateSync(Buffer.alloc(5 * 1024 * 1024, 0x20)).toString('base64');
    assert.throws(
      () => decompressPayload({ ...p, payload: { compressed_data: bomb } }),
      StreamError,
    );
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2]).toString('base64');
    assert.throws(() => decompressPayload({ ...p, payload: { compressed_data: zstd } }), /zstd/);
  });
});

describe('jitna - streams', () => {
  it('splits into signed chunks and an end marker that reassemble in any order (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'jitna/stream');
    const p = big();
    const pieces = streamPackets(p, { chunkChars: 100, signer, now: NOW });
    const verifier = new PacketVerifier({ keys: trust, now: () => NOW });
    for (const q of pieces) assert.equal(verifier.verify(q).ok, true, hint);
    assert.equal(pieces.at(-1)!.message_type, 'stream_end');
    assert.ok(pieces.slice(0, -1).every((q, i) => q.seq === i && q.correlation_id === 'conv'));
    // chunks shuffled (the end last, as a stream ends), one of them repeated
    const chunks = pieces.slice(0, -1);
    for (let i = chunks.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [chunks[i], chunks[j]] = [chunks[j]!, chunks[i]!];
    }
    const a = new StreamAssembler();
    for (const q of [...chunks, chunks[0]!]) assert.equal(a.add(q), undefined, hint);
    const whole = a.add(pieces.at(-1)!);
    assert.deepEqual(whole, { payload: p.payload, message_type: 'intent_response' }, hint);
  });

  it('refuses a missing, changed, out-of-range or late chunk, and a count that does not add up', () => {
    const pieces = streamPackets(big(), { chunkChars: 200 });
    const end = pieces.at(-1)!;
    const chunks = pieces.slice(0, -1);
    const run = (list: JitnaPacket[]): unknown => {
      const a = new StreamAssembler();
      let out: unknown;
      for (const q of list) out = a.add(q);
      return out;
    };
    assert.throws(() => run([...chunks.slice(1), end]), /missing/);
    const changed = { ...chunks[0]!, payload: { ...chunks[0]!.payload, data: 'x' } };
    assert.throws(() => run([chunks[0]!, changed]), /twice with different data/);
    const outOfRange = { ...chunks[0]!, payload: { ...chunks[0]!.payload, chunk_index: 999 } };
    assert.throws(() => run([outOfRange]), /outside/);
    const otherCount = { ...chunks[1]!, payload: { ...chunks[1]!.payload, total_chunks: 99 } };
    assert.throws(() => run([chunks[0]!, otherCount]), /chunks/);
    const wrongSum = { ...end, payload: { ...end.payload, sha256: '0'.repeat(64) } };
    assert.throws(() => run([...chunks, wrongSum]), /do not add up/);
    const a = new StreamAssembler();
    for (const q of chunks) a.add(q);
    a.add(end);
    assert.throws(() => a.add(chunks[0]!), /after its end/);
    assert.throws(() => run([{ ...chunks[0]!, message_type: 'heartbeat' }, end]), StreamError);
  });
});

describe('jitna - packet registry', () => {
  it('keeps packets by id and chain, refuses a duplicate id, and stays bounded', () => {
    const reg = new PacketRegistry(3);
    const mk = (corr?: string): JitnaPacket =>
      createPacket({
        source: 'a',
        target: 'b',
        type: 'heartbeat',
        ...(corr ? { correlationId: corr } : {}),
      });
    const [p1, p2, p3, p4] = [mk('c'), mk('c'), mk(), mk('d')];
    for (const p of [p1!, p2!, p3!]) reg.register(p);
    assert.throws(() => reg.register({ ...p1!, payload: { other: 1 } }), DuplicatePacketError);
    assert.deepEqual(reg.get(p1!.packet_id), p1, 'the first is not overwritten');
    assert.deepEqual(
      reg.getChain('c').map((p) => p.packet_id),
      [p1!.packet_id, p2!.packet_id],
    );
    reg.register(p4!); // the oldest (p1) goes, and leaves its chain
    assert.equal(reg.packetCount, 3);
    assert.equal(reg.get(p1!.packet_id), undefined);
    assert.deepEqual(
      reg.getChain('c').map((p) => p.packet_id),
      [p2!.packet_id],
    );
    assert.deepEqual(reg.statistics(), {
      total_packets: 3,
      total_chains: 2,
      packets_by_type: { heartbeat: 3 },
    });
    reg.clear();
    assert.equal(reg.packetCount + reg.chainCount, 0);
  });
});
