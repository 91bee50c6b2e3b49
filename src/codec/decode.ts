import { copyBytes } from './bytes.js';
import { CborDecodeError, type CborDecodeReason } from './errors.js';
import { MAX_DEPTH } from './limits.js';
import type { CborValue } from './value.js';

/**
 * Strict canonical CBOR decoder (DESIGN §3). It accepts exactly the byte strings `encode` produces
 * and refuses everything else with a {@link CborDecodeError} naming the reason and the offset:
 * indefinite lengths, non-minimal heads, tags, simple values other than false/true/null, float16 and
 * float32, a float64 holding an integral value (−0 included), a NaN other than 0x7ff8000000000000,
 * map keys that are not text, duplicate or unsorted keys, invalid UTF-8, truncation and trailing
 * bytes. So `encode(decode(b))` equals `b` for every accepted `b`.
 */

const TWO_32 = 0x1_0000_0000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
/** Made only when a float is read (most inputs have none): one fewer allocation per decode. */
let view: DataView | undefined;
let pos = 0;
let end = 0;

/** The big-endian uint32 at `at`. */
function u32(at: number): number {
  return ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

function fail(reason: CborDecodeReason, at: number, message: string): never {
  throw new CborDecodeError(reason, at, message);
}

/** Reads the argument of a head whose additional info is `ai`; returns it as a number or bigint. */
function readArg(ai: number, start: number): number | bigint {
  if (ai < 24) return ai;
  switch (ai) {
    case 24: {
      if (pos + 1 > end) fail('truncated', start, 'input ends inside a head');
      const v = buf[pos++]!;
      if (v < 24) fail('non-minimal-integer', start, `argument ${v} must use the one-byte head`);
      return v;
    }
    case 25: {
      if (pos + 2 > end) fail('truncated', start, 'input ends inside a head');
      const v = (buf[pos]! << 8) | buf[pos + 1]!;
      pos += 2;
      if (v < 0x100)
        fail('non-minimal-integer', start, `argument ${v} has a longer head than needed`);
      return v;
    }
    case 26: {
      if (pos + 4 > end) fail('truncated', start, 'input ends inside a head');
      const v = u32(pos);
      pos += 4;
      if (v < 0x1_0000)
        fail('non-minimal-integer', start, `argument ${v} has a longer head than needed`);
      return v;
    }
    case 27: {
      if (pos + 8 > end) fail('truncated', start, 'input ends inside a head');
      const hi = u32(pos);
      const lo = u32(pos + 4);
      pos += 8;
      if (hi === 0)
        fail('non-minimal-integer', start, `argument ${lo} has a longer head than needed`);
      if (hi < 0x20_0000) return hi * TWO_32 + lo;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    case 31:
      return fail('indefinite-length', start, 'indefinite lengths are not canonical');
    default:
      return fail('reserved-additional-info', start, `additional info ${ai} is reserved`);
  }
}

/** A length (of bytes, text, array items or map pairs) that must fit in what is left of the input. */
function readLength(ai: number, start: number, minBytesPerUnit: number): number {
  const n = readArg(ai, start);
  if (typeof n === 'bigint' || n * minBytesPerUnit > end - pos) {
    fail('truncated', start, `declared length ${n} exceeds the ${end - pos} bytes left`);
  }
  return n;
}

function readText(ai: number, start: number): string {
  const n = readLength(ai, start, 1);
  const from = pos;
  pos += n;
  if (n < 32) {
    let s = '';
    let ascii = true;
    for (let i = from; i < pos; i++) {
      const c = buf[i]!;
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      s += String.fromCharCode(c);
    }
    if (ascii) return s;
  }
  try {
    return utf8.decode(buf.subarray(from, pos));
  } catch {
    return fail('invalid-utf8', start, 'text is not valid UTF-8');
  }
}

// Map keys repeat across items, so short ones are cached by their bytes (checked on every hit).
const KEY_SLOTS = 1024;
const keyBytes: (Uint8Array | undefined)[] = new Array(KEY_SLOTS);
const keyStrings: string[] = new Array(KEY_SLOTS);

/** Reads a map key (a text item whose head byte is already consumed). */
function readKey(ai: number, start: number): string {
  if (ai >= 24 || pos + ai > end) return readText(ai, start);
  let h = ai;
  for (let i = 0; i < ai; i++) h = (Math.imul(h, 31) + buf[pos + i]!) | 0;
  const slot = h & (KEY_SLOTS - 1);
  const cached = keyBytes[slot];
  if (cached !== undefined && cached.length === ai) {
    let same = true;
    for (let i = 0; i < ai; i++) {
      if (cached[i] !== buf[pos + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      pos += ai;
      return keyStrings[slot]!;
    }
  }
  const from = pos;
  const s = readText(ai, start);
  keyBytes[slot] = buf.slice(from, pos);
  keyStrings[slot] = s;
  return s;
}

function compareRanges(a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = buf[a0 + i]! - buf[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

function readMap(ai: number, start: number, depth: number): Record<string, CborValue> {
  const n = readLength(ai, start, 2);
  const out: Record<string, CborValue> = {};
  let prevStart = -1;
  let prevEnd = -1;
  for (let i = 0; i < n; i++) {
    const keyStart = pos;
    if (pos >= end) fail('truncated', pos, 'input ends inside a map');
    const ib = buf[pos++]!;
    if (ib >> 5 !== 3) fail('non-text-key', keyStart, 'map keys must be text strings');
    const key = readKey(ib & 31, keyStart);
    if (prevStart >= 0) {
      const c = compareRanges(prevStart, prevEnd, keyStart, pos);
      if (c === 0) fail('duplicate-key', keyStart, `map key "${key}" appears twice`);
      if (c > 0) fail('unsorted-keys', keyStart, `map key "${key}" is out of canonical order`);
    }
    prevStart = keyStart;
    prevEnd = pos;
    const value = readItem(depth + 1);
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = value;
    }
  }
  return out;
}

function readFloat(ai: number, start: number): number {
  if (ai !== 27) fail('float-width', start, 'only float64 is canonical (float16/float32 are not)');
  if (pos + 8 > end) fail('truncated', start, 'input ends inside a float');
  view ??= new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const v = view.getFloat64(pos);
  if (Number.isNaN(v)) {
    if (u32(pos) !== 0x7ff8_0000 || u32(pos + 4) !== 0) {
      fail('non-canonical-nan', start, 'NaN must be 0x7ff8000000000000');
    }
  } else if (Number.isInteger(v)) {
    fail(
      'integral-float',
      start,
      `float ${Object.is(v, -0) ? '-0' : v} must be encoded as an integer`,
    );
  }
  pos += 8;
  return v;
}

function readItem(depth: number): CborValue {
  const start = pos;
  if (pos >= end) fail('truncated', pos, 'input ends where an item should start');
  if (depth > MAX_DEPTH) fail('too-deep', pos, `items nest deeper than ${MAX_DEPTH}`);
  const ib = buf[pos++]!;
  const major = ib >> 5;
  const ai = ib & 31;
  switch (major) {
    case 0:
      return readArg(ai, start);
    case 1: {
      const n = readArg(ai, start);
      if (typeof n === 'number' && n < Number.MAX_SAFE_INTEGER) return -1 - n;
      const v = -1n - BigInt(n);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    case 2: {
      const n = readLength(ai, start, 1);
      const out = copyBytes(buf, pos, pos + n);
      pos += n;
      return out;
    }
    case 3:
      return readText(ai, start);
    case 4: {
      const n = readLength(ai, start, 1);
      const out = new Array<CborValue>(n);
      for (let i = 0; i < n; i++) out[i] = readItem(depth + 1);
      return out;
    }
    case 5:
      return readMap(ai, start, depth);
    case 6:
      return fail('tag', start, 'tags are not allowed');
    default:
      switch (ai) {
        case 20:
          return false;
        case 21:
          return true;
        case 22:
          return null;
        case 23:
          return fail('undefined', start, 'undefined is not allowed');
        case 25:
        case 26:
        case 27:
          return readFloat(ai, start);
        case 31:
          return fail('indefinite-length', start, 'a break byte outside an indefinite item');
        default:
          return fail('simple-value', start, `simple value ${ai} is not allowed`);
      }
  }
}

/**
 * Decodes one canonical CBOR item that must fill `bytes` exactly. Byte strings in the result are
 * copies, never views of `bytes`.
 */
export function decode(bytes: Uint8Array): CborValue {
  const { value, end: at } = decodePrefix(bytes);
  if (at !== bytes.length) fail('trailing-bytes', at, `${bytes.length - at} bytes follow the item`);
  return value;
}

/**
 * Decodes the canonical CBOR item that starts at `from` (default 0) in `bytes` and says where it
 * ends (an offset in `bytes`): for formats that put two items back to back (a batch-signed
 * envelope is the envelope, then its proof), or that read the head of an item themselves.
 */
export function decodePrefix(bytes: Uint8Array, from = 0): { value: CborValue; end: number } {
  if (from >= bytes.length) fail('empty', from, 'no bytes to decode');
  buf = bytes;
  view = undefined;
  pos = from;
  end = bytes.length;
  try {
    const value = readItem(0);
    return { value, end: pos };
  } finally {
    buf = EMPTY;
    view = undefined;
  }
}
