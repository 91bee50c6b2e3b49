import { createHash, randomUUID } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import type { Signer } from '../identity/index.js';
import { StreamError } from './errors.js';
import { sortedJson } from './forms.js';
import {
  type JitnaPacket,
  type JsonMap,
  MAX_PAYLOAD_BYTES,
  MESSAGE_TYPES,
  type MessageType,
} from './packet.js';
import { signPacket } from './sign.js';

/** Characters of payload JSON per stream chunk (the reference's default). */
export const DEFAULT_CHUNK_CHARS = 512;
/** The most chunks one stream may have. */
export const MAX_CHUNKS = 65_536;
/** The longest payload JSON a compressed packet or a stream may unpack to (4 MiB). */
const MAX_TEXT_BYTES = 4 * MAX_PAYLOAD_BYTES;

const jsonText = (v: JsonMap): string => JSON.stringify(sortedJson(v));

/**
 * The v3 compressed form: the payload becomes `{compressed_data: base64(zlib(JSON))}` and
 * `compressed` true. Compress, then sign (the reference signed first, and its signatures then
 * failed): the signature covers what is sent, and is checked before anything is inflated.
 */
export function compressPacket(p: JitnaPacket): JitnaPacket {
  if (p.compressed === true) return p;
  const data = deflateSync(Buffer.from(jsonText(p.payload), 'utf8'), { level: 6 }).toString(
    'base64',
  );
  const { signature: _, ...rest } = p;
  return { ...rest, schema_version: '3.0', compressed: true, payload: { compressed_data: data } };
}

/**
 * The payload of a compressed packet, inflated (at most 4 MiB of JSON: a bomb stops there).
 * zlib only: Node 20 has no zstd, so a zstd payload of the Python side is refused by name.
 */
export function decompressPayload(p: JitnaPacket): JsonMap {
  if (p.compressed !== true) return p.payload;
  const data = p.payload.compressed_data;
  if (typeof data !== 'string')
    throw new StreamError('a compressed payload is {compressed_data: <base64>}');
  const raw = Buffer.from(data, 'base64');
  if (raw.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])))
    throw new StreamError(
      'the payload is zstd-compressed, which this runtime cannot inflate; send zlib',
    );
  let text: string;
  try {
    text = inflateSync(raw, { maxOutputLength: MAX_TEXT_BYTES }).toString('utf8');
  } catch (e) {
    throw new StreamError(
      `the compressed payload does not inflate: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
  const v: unknown = JSON.parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new StreamError('the compressed payload is not a JSON map');
  return v as JsonMap;
}

export interface StreamOptions {
  readonly chunkChars?: number;
  /** Signs every chunk and the end marker (the reference left chunks unsigned). */
  readonly signer?: Signer;
  readonly now?: number;
}

/**
 * Splits a packet's payload into `stream_chunk` packets of `chunkChars` characters of its JSON
 * (by code point, never inside a character) and a `stream_end` packet with the count, the
 * SHA-256 of the whole JSON and the original message type. Every piece has its own id, the
 * stream's id as `correlation_id` and its index as `seq`, and is signed when a signer is given.
 */
export function streamPackets(p: JitnaPacket, o: StreamOptions = {}): JitnaPacket[] {
  const size = o.chunkChars ?? DEFAULT_CHUNK_CHARS;
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError(`chunkChars is a whole number ≥ 1, not ${size}`);
  const text = jsonText(p.payload);
  const chars = Array.from(text);
  const total = Math.max(1, Math.ceil(chars.length / size));
  if (total > MAX_CHUNKS)
    throw new StreamError(`${total} chunks: at most ${MAX_CHUNKS} (take larger chunks)`);
  const streamId = p.correlation_id ?? p.packet_id;
  const { signature: _s, key_id: _k, nonce: _n, expires_at: _e, ...base } = p;
  const piece = (type: MessageType, payload: JsonMap, seq: number): JitnaPacket => {
    const q: JitnaPacket = {
      ...base,
      schema_version: '3.0',
      packet_id: randomUUID(),
      message_type: type,
      correlation_id: streamId,
      seq,
      payload,
    };
    return o.signer === undefined
      ? q
      : signPacket(q, o.signer, o.now === undefined ? {} : { now: o.now });
  };
  const out: JitnaPacket[] = [];
  for (let i = 0; i < total; i++)
    out.push(
      piece(
        'stream_chunk',
        {
          stream_id: streamId,
          chunk_index: i,
          total_chunks: total,
          data: chars.slice(i * size, (i + 1) * size).join(''),
        },
        i,
      ),
    );
  out.push(
    piece(
      'stream_end',
      {
        stream_id: streamId,
        total_chunks: total,
        sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
        message_type: p.message_type,
      },
      total,
    ),
  );
  return out;
}

interface Assembly {
  total: number;
  readonly parts: (string | undefined)[];
  have: number;
  bytes: number;
}

/**
 * Puts streams back together, checking what the reference never did: every index in range and
 * the same count on every chunk, a repeated chunk the same as before (then it is ignored), the
 * end marker's count and SHA-256, nothing after the end. Pieces may come in any order. Verify
 * each piece's signature first (PacketVerifier). Throws StreamError and forgets the stream.
 */
export class StreamAssembler {
  private readonly streams = new Map<string, Assembly>();
  private readonly ended = new Set<string>();
  private readonly maxStreams: number;

  constructor(maxStreams = 1024) {
    this.maxStreams = maxStreams;
  }

  /** Takes one piece; the whole payload (and its message type) once the stream is complete. */
  add(p: JitnaPacket): { payload: JsonMap; message_type: MessageType } | undefined {
    const q = p.payload;
    const id = q.stream_id;
    if (typeof id !== 'string')
      throw new StreamError('a stream piece names its stream (payload.stream_id)');
    if (this.ended.has(id))
      throw new StreamError(`stream ${id} has ended; a piece came after its end`);
    const total = q.total_chunks;
    if (
      typeof total !== 'number' ||
      !Number.isSafeInteger(total) ||
      total < 1 ||
      total > MAX_CHUNKS
    )
      return this.fail(id, `total_chunks ${String(total)} is not 1–${MAX_CHUNKS}`);
    let a = this.streams.get(id);
    if (a === undefined) {
      if (this.streams.size >= this.maxStreams)
        this.streams.delete(this.streams.keys().next().value!);
      a = { total, parts: new Array(total), have: 0, bytes: 0 };
      this.streams.set(id, a);
    }
    if (a.total !== total)
      return this.fail(id, `one piece says ${a.total} chunks, another ${total}`);
    if (p.message_type === 'stream_chunk') {
      const i = q.chunk_index;
      if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0 || i >= total)
        return this.fail(id, `chunk_index ${String(i)} is outside 0–${total - 1}`);
      if (typeof q.data !== 'string') return this.fail(id, `chunk ${i} carries no data`);
      const before = a.parts[i];
      if (before !== undefined) {
        if (before !== q.data) return this.fail(id, `chunk ${i} came twice with different data`);
        return undefined; // a repeat: idempotent
      }
      a.bytes += q.data.length;
      if (a.bytes > MAX_TEXT_BYTES) return this.fail(id, 'the stream is larger than 4 MiB');
      a.parts[i] = q.data;
      a.have++;
      return undefined;
    }
    if (p.message_type !== 'stream_end')
      return this.fail(id, `a ${p.message_type} packet is not a stream piece`);
    if (a.have !== total) {
      const missing = a.parts.map((x, k) => (x === undefined ? k : -1)).filter((k) => k >= 0);
      return this.fail(
        id,
        `the stream ended with chunk(s) ${missing.slice(0, 8).join(', ')} missing`,
      );
    }
    const text = a.parts.join('');
    const sum = createHash('sha256').update(text, 'utf8').digest('hex');
    if (q.sha256 !== sum)
      return this.fail(id, 'the chunks do not add up to what the end marker hashed');
    this.streams.delete(id);
    this.remember(id);
    const payload: unknown = JSON.parse(text);
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
      return this.fail(id, 'the stream is not a JSON map');
    const mt = q.message_type;
    if (!(MESSAGE_TYPES as readonly unknown[]).includes(mt))
      return this.fail(id, `the end marker names message type ${String(mt)}, which is none`);
    return { payload: payload as JsonMap, message_type: mt as MessageType };
  }

  private remember(id: string): void {
    if (this.ended.size >= this.maxStreams * 4) this.ended.clear();
    this.ended.add(id);
  }

  private fail(id: string, why: string): never {
    this.streams.delete(id);
    throw new StreamError(`stream ${id}: ${why}`, { stream: id });
  }
}
