import { blake3, equalBytes, HASH_BYTES } from './blake3.js';
import { allocBytes, copyBytes } from './bytes.js';
import { FrameChecksumError, FrameError } from './errors.js';

/**
 * JS-ABI frames (RFC-0013, DESIGN §5), big-endian:
 *   magic "JIT!" (4a495421) | version u16 (0x0100) | flags u16 | length u32 | payload | BLAKE3-256
 * where the checksum covers header and payload. Flags 0x8000 (compression) and 0x4000 (streaming)
 * are reserved by the RFC and not yet spoken here, so every flag bit must be 0 for now.
 */
export const FRAME_MAGIC = 0x4a49_5421;
export const FRAME_VERSION = 0x0100;
export const FRAME_HEADER_BYTES = 12;
export const FRAME_OVERHEAD = FRAME_HEADER_BYTES + HASH_BYTES;
/** Default bound on one frame's payload: larger frames are refused before any allocation. */
export const DEFAULT_MAX_FRAME_PAYLOAD = 16 * 1024 * 1024;

export interface Frame {
  readonly version: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

export function encodeFrame(payload: Uint8Array, flags = 0): Uint8Array {
  if (flags !== 0)
    throw new FrameError('unsupported-flags', 0, `flags 0x${flags.toString(16)} are not supported`);
  // every byte is written below: header, payload, checksum
  const out = allocBytes(FRAME_OVERHEAD + payload.length);
  const dv = new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES);
  dv.setUint32(0, FRAME_MAGIC);
  dv.setUint16(4, FRAME_VERSION);
  dv.setUint16(6, flags);
  dv.setUint32(8, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  const body = out.subarray(0, FRAME_HEADER_BYTES + payload.length);
  out.set(blake3(body), FRAME_HEADER_BYTES + payload.length);
  return out;
}

/**
 * Checks the header at `at`; returns the payload length, or -1 when fewer than 12 bytes are there.
 * Throws for a bad magic, version, flags or an oversized length.
 */
function readHeader(bytes: Uint8Array, at: number, base: number, maxPayload: number): number {
  if (bytes.length - at < FRAME_HEADER_BYTES) return -1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, FRAME_HEADER_BYTES);
  const where = base + at;
  if (dv.getUint32(0) !== FRAME_MAGIC)
    throw new FrameError('bad-magic', where, 'frame does not start with "JIT!"');
  const version = dv.getUint16(4);
  if (version !== FRAME_VERSION) {
    throw new FrameError(
      'bad-version',
      where,
      `frame version 0x${version.toString(16).padStart(4, '0')} is not 0x0100`,
    );
  }
  const flags = dv.getUint16(6);
  if (flags !== 0)
    throw new FrameError(
      'unsupported-flags',
      where,
      `frame flags 0x${flags.toString(16)} are not supported`,
    );
  const length = dv.getUint32(8);
  if (length > maxPayload) {
    throw new FrameError(
      'too-large',
      where,
      `frame payload of ${length} bytes exceeds the limit of ${maxPayload}`,
    );
  }
  return length;
}

function verified(bytes: Uint8Array, at: number, length: number, where: number): Frame {
  const bodyEnd = at + FRAME_HEADER_BYTES + length;
  const sum = blake3(bytes.subarray(at, bodyEnd));
  if (!equalBytes(sum, bytes.subarray(bodyEnd, bodyEnd + HASH_BYTES)))
    throw new FrameChecksumError(where);
  return {
    version: FRAME_VERSION,
    flags: 0,
    payload: copyBytes(bytes, at + FRAME_HEADER_BYTES, bodyEnd),
  };
}

/** Decodes exactly one frame that fills `bytes`. */
export function decodeFrame(bytes: Uint8Array, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): Frame {
  const length = readHeader(bytes, 0, 0, maxPayload);
  if (length < 0 || bytes.length < FRAME_OVERHEAD + length) {
    throw new FrameError('truncated', 0, `input of ${bytes.length} bytes ends inside the frame`);
  }
  if (bytes.length > FRAME_OVERHEAD + length) {
    throw new FrameError('trailing-bytes', FRAME_OVERHEAD + length, 'bytes follow the frame');
  }
  return verified(bytes, 0, length, 0);
}

/**
 * Splits a byte stream (a socket) into verified frames. Feed chunks with `push`; it returns the
 * frames completed so far. The first error is final: a framed stream cannot resynchronise, so the
 * reader refuses further input and the connection should answer with an error and close.
 */
export class FrameReader {
  private pending: Uint8Array = new Uint8Array(0);
  private consumed = 0;
  private failure: Error | undefined;
  private beforeFailure: Frame[] = [];
  private readonly maxPayload: number;

  constructor(maxPayload = DEFAULT_MAX_FRAME_PAYLOAD) {
    this.maxPayload = maxPayload;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The frames that verified in the chunk whose push threw, before the bad one. */
  completed(): Frame[] {
    const f = this.beforeFailure;
    this.beforeFailure = [];
    return f;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failure)
      throw new FrameError('stream-failed', this.consumed, 'the stream already failed');
    let data = chunk;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending);
      data.set(chunk, this.pending.length);
    }
    const frames: Frame[] = [];
    let at = 0;
    try {
      for (;;) {
        const length = readHeader(data, at, this.consumed, this.maxPayload);
        if (length < 0 || data.length - at < FRAME_OVERHEAD + length) break;
        frames.push(verified(data, at, length, this.consumed + at));
        at += FRAME_OVERHEAD + length;
      }
    } catch (e) {
      this.failure = e as Error;
      this.beforeFailure = frames;
      throw e;
    }
    this.consumed += at;
    this.pending = at === data.length ? new Uint8Array(0) : data.slice(at);
    return frames;
  }
}
