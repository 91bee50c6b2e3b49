import { blake3, equalBytes, HASH_BYTES } from '../codec/index.js';

/**
 * WAL record framing (RFC-0006, DESIGN §4), big-endian:
 *   magic "JIT " u32 | version u16 (0x0100) | op u16 | logical_ts u64 | payload_len u64 |
 *   payload (canonical CBOR) | BLAKE3-256 over everything before it
 * Op numbers are frozen (docs/INTERNALS.md): never renumber, only add.
 */
export const WAL_MAGIC = 0x4a49_5420;
export const WAL_VERSION = 0x0100;
export const RECORD_HEADER_BYTES = 24;
export const RECORD_OVERHEAD = RECORD_HEADER_BYTES + HASH_BYTES;
/** Payloads above this are refused on append and read as corruption. */
export const MAX_RECORD_PAYLOAD = 64 * 1024 * 1024;

export const WalOp = {
  CREATE_NODE: 1,
  SET_REF: 2,
  SWS_CREATE: 3,
  SWS_PATCH: 4,
  SWS_DESTROY: 5,
  SYNC_EVENT: 6,
  CHECKPOINT: 7,
  SWS_ANNOTATE: 8,
  ACL_SET: 9,
  SWS_MEMBER: 10,
} as const;
export type WalOpName = keyof typeof WalOp;
export type WalOpNumber = (typeof WalOp)[WalOpName];

const opNames = new Map<number, WalOpName>(
  Object.entries(WalOp).map(([k, v]) => [v, k as WalOpName]),
);
export function walOpName(op: number): WalOpName | undefined {
  return opNames.get(op);
}

export interface WalRecord {
  readonly op: WalOpNumber;
  readonly ts: number;
  readonly payload: Uint8Array;
  /** Byte offset of the record in its file. */
  readonly offset: number;
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/** Writes one record at `at` in `out` (which must have room); returns the bytes written. */
export function writeRecord(
  out: Uint8Array,
  at: number,
  op: number,
  ts: number,
  payload: Uint8Array,
): number {
  // header bytes written one by one: no DataView or BigInt per record (u64s as two u32 halves)
  const n = payload.length;
  const hi = Math.floor(ts / 0x1_0000_0000);
  out[at] = 0x4a;
  out[at + 1] = 0x49;
  out[at + 2] = 0x54;
  out[at + 3] = 0x20;
  out[at + 4] = WAL_VERSION >>> 8;
  out[at + 5] = WAL_VERSION & 0xff;
  out[at + 6] = op >>> 8;
  out[at + 7] = op & 0xff;
  put32(out, at + 8, hi);
  put32(out, at + 12, ts >>> 0);
  put32(out, at + 16, 0);
  put32(out, at + 20, n);
  out.set(payload, at + RECORD_HEADER_BYTES);
  const end = at + RECORD_HEADER_BYTES + payload.length;
  out.set(blake3(out.subarray(at, end)), end);
  return end + HASH_BYTES - at;
}

export function encodeRecord(op: number, ts: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_OVERHEAD + payload.length);
  writeRecord(out, 0, op, ts, payload);
  return out;
}

export type ParseResult =
  | { readonly kind: 'record'; readonly record: WalRecord; readonly end: number }
  /** Not enough bytes for the header or the declared record. */
  | { readonly kind: 'incomplete'; readonly need: number }
  | {
      readonly kind: 'bad';
      readonly reason: 'bad-magic' | 'bad-version' | 'bad-op' | 'bad-length' | 'bad-checksum';
      readonly declaredEnd: number;
    };

/** Parses the record starting at `at` of `buf` (whose first byte is at file offset `base`). */
export function parseRecord(buf: Uint8Array, at: number, base: number): ParseResult {
  if (buf.length - at < RECORD_HEADER_BYTES)
    return { kind: 'incomplete', need: RECORD_HEADER_BYTES };
  const dv = new DataView(buf.buffer, buf.byteOffset + at, RECORD_HEADER_BYTES);
  if (dv.getUint32(0) !== WAL_MAGIC) return { kind: 'bad', reason: 'bad-magic', declaredEnd: -1 };
  if (dv.getUint16(4) !== WAL_VERSION)
    return { kind: 'bad', reason: 'bad-version', declaredEnd: -1 };
  const op = dv.getUint16(6);
  // u64 fields read as two u32 halves: lengths above MAX_RECORD_PAYLOAD are refused anyway
  const len = dv.getUint32(20);
  if (dv.getUint32(16) !== 0 || len > MAX_RECORD_PAYLOAD) {
    return { kind: 'bad', reason: 'bad-length', declaredEnd: -1 };
  }
  const total = RECORD_OVERHEAD + len;
  const declaredEnd = base + at + total;
  if (buf.length - at < total) return { kind: 'incomplete', need: total };
  if (walOpName(op) === undefined) return { kind: 'bad', reason: 'bad-op', declaredEnd };
  const bodyEnd = at + RECORD_HEADER_BYTES + len;
  if (!equalBytes(blake3(buf.subarray(at, bodyEnd)), buf.subarray(bodyEnd, bodyEnd + HASH_BYTES))) {
    return { kind: 'bad', reason: 'bad-checksum', declaredEnd };
  }
  const ts = dv.getUint32(8) * 0x1_0000_0000 + dv.getUint32(12);
  return {
    kind: 'record',
    record: {
      op: op as WalOpNumber,
      ts,
      payload: buf.subarray(at + RECORD_HEADER_BYTES, bodyEnd),
      offset: base + at,
    },
    end: at + total,
  };
}
