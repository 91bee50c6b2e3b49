import { copyBytes } from './bytes.js';
import { CborEncodeError, type CborEncodeReason } from './errors.js';
import { MAX_DEPTH } from './limits.js';
import type { CborValue } from './value.js';

/**
 * Canonical CBOR encoder (RFC 8949 §4.2.1 as narrowed by DESIGN §3): definite lengths, shortest
 * heads, no tags, map keys sorted by their encoded bytes and unique, integral numbers as integers,
 * other numbers as float64, NaN as 0x7ff8000000000000, −0 as 0.
 *
 * Output goes into a shared chunk (encoding never calls user code, so it is not re-entered). Each
 * call returns a view of the bytes it wrote and moves `start` past them, so results never alias one
 * another; when a chunk runs out, a new one is taken and old views keep the old chunk alive.
 */

const TWO_32 = 0x1_0000_0000;
const MAX_U64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();

const CHUNK = 64 * 1024;
/** Results larger than this are returned as copies rather than views of the shared chunk. */
const LARGE = 1024;
let buf = new Uint8Array(CHUNK);
let view = new DataView(buf.buffer);
let start = 0;
let pos = 0;
/** When set (encodeTo), large byte strings go straight to the sink instead of into the chunk. */
let sink: ((part: Uint8Array) => void) | undefined;
const SINK_DIRECT = 512;

function ensure(extra: number): void {
  const need = pos + extra;
  if (need <= buf.length) return;
  // move the item being written to the front of a new chunk large enough for it
  const used = pos - start;
  let size = CHUNK;
  while (size < used + extra) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(start, pos));
  buf = next;
  view = new DataView(buf.buffer);
  pos = used;
  start = 0;
}

/** Bytes a head for argument `n` (a non-negative integer below 2^64) takes. */
/** Bytes of a CBOR head carrying `n` (a non-negative safe integer). */
export function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : n < TWO_32 ? 5 : 9;
}

function writeHead(major: number, n: number): void {
  const m = major << 5;
  if (n < 24) {
    ensure(1);
    buf[pos++] = m | n;
  } else if (n < 0x100) {
    ensure(2);
    buf[pos++] = m | 24;
    buf[pos++] = n;
  } else if (n < 0x1_0000) {
    ensure(3);
    buf[pos++] = m | 25;
    buf[pos++] = n >>> 8;
    buf[pos++] = n & 0xff;
  } else if (n < TWO_32) {
    ensure(5);
    buf[pos++] = m | 26;
    view.setUint32(pos, n);
    pos += 4;
  } else {
    ensure(9);
    buf[pos++] = m | 27;
    view.setUint32(pos, Math.floor(n / TWO_32));
    view.setUint32(pos + 4, n >>> 0);
    pos += 8;
  }
}

/** The canonical head of an item of major type `major` and argument `n` (a length, a count). */
export function encodeHead(major: number, n: number): Uint8Array {
  pos = start;
  writeHead(major, n);
  const out = buf.slice(start, pos);
  pos = start;
  return out;
}

function writeBigHead(major: number, n: bigint): void {
  if (n < BigInt(Number.MAX_SAFE_INTEGER)) {
    writeHead(major, Number(n));
    return;
  }
  ensure(9);
  buf[pos++] = (major << 5) | 27;
  view.setBigUint64(pos, n);
  pos += 8;
}

function fail(reason: CborEncodeReason, message: string): never {
  throw new CborEncodeError(reason, '$', message);
}

function writeNumber(v: number): void {
  if (Number.isInteger(v)) {
    if (Number.isSafeInteger(v)) {
      if (v >= 0) writeHead(0, v);
      else writeHead(1, -1 - v);
      return;
    }
    writeBigint(BigInt(v));
    return;
  }
  ensure(9);
  buf[pos++] = 0xfb;
  if (Number.isNaN(v)) {
    view.setUint32(pos, 0x7ff8_0000);
    view.setUint32(pos + 4, 0);
  } else {
    view.setFloat64(pos, v);
  }
  pos += 8;
}

function writeBigint(v: bigint): void {
  if (v >= 0n) {
    if (v > MAX_U64) fail('integer-out-of-range', `integer ${v} does not fit a CBOR integer`);
    writeBigHead(0, v);
  } else {
    const n = -1n - v;
    if (n > MAX_U64) fail('integer-out-of-range', `integer ${v} does not fit a CBOR integer`);
    writeBigHead(1, n);
  }
}

/** Writes UTF-8 of `s` at `at`; returns the byte count, or -1 on a lone surrogate. ASCII-fast. */
function writeUtf8(s: string, at: number): number {
  const len = s.length;
  if (len > 64) {
    if (!s.isWellFormed()) return -1;
    return utf8.encodeInto(s, buf.subarray(at)).written;
  }
  let p = at;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -1;
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - at;
}

function writeText(s: string): void {
  const max = s.length * 3;
  const reserved = headSize(max);
  ensure(reserved + max);
  const start = pos + reserved;
  const n = writeUtf8(s, start);
  if (n < 0) fail('lone-surrogate', 'text holds a lone UTF-16 surrogate, which has no UTF-8 form');
  const actual = headSize(n);
  if (actual !== reserved) buf.copyWithin(pos + actual, start, start + n);
  writeHead(3, n);
  pos += n;
}

// Encoded map keys (head + UTF-8), cached: keys repeat across messages.
const keyCache = new Map<string, Uint8Array>();
const KEY_CACHE_MAX = 4096;

function encodedKey(k: string): Uint8Array {
  let e = keyCache.get(k);
  if (e !== undefined) return e;
  if (!k.isWellFormed()) fail('lone-surrogate', 'a map key holds a lone UTF-16 surrogate');
  const text = utf8.encode(k);
  const n = text.length;
  const h = headSize(n);
  e = new Uint8Array(h + n);
  if (h === 1) {
    e[0] = 0x60 | n;
  } else {
    e[0] = 0x60 | [0, 0, 24, 25, 0, 26][h]!;
    for (let i = 1; i < h; i++) e[i] = Math.floor(n / 256 ** (h - 1 - i)) & 0xff;
  }
  e.set(text, h);
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(k, e);
  return e;
}

/** Canonical key order: the bytes of the encoded keys, compared lexicographically. */
export function compareEncodedKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const objectProto = Object.prototype;

// Per-depth scratch arrays for map keys and values, so encoding a map allocates nothing.
const scratchKeys: Uint8Array[][] = Array.from({ length: MAX_DEPTH + 2 }, () => []);
const scratchValues: CborValue[][] = Array.from({ length: MAX_DEPTH + 2 }, () => []);

function writeMap(obj: { readonly [k: string]: CborValue | undefined }, depth: number): void {
  const keys = scratchKeys[depth]!;
  const values = scratchValues[depth]!;
  let n = 0;
  for (const name in obj) {
    if (!Object.hasOwn(obj, name)) continue;
    const v = obj[name];
    if (v === undefined) continue;
    const k = encodedKey(name);
    // insertion sort: maps are small, and often arrive sorted already
    let i = n;
    while (i > 0 && compareEncodedKeys(keys[i - 1]!, k) > 0) {
      keys[i] = keys[i - 1]!;
      values[i] = values[i - 1]!;
      i--;
    }
    keys[i] = k;
    values[i] = v;
    n++;
  }
  writeHead(5, n);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const v = values[i]!;
    writeKey(k);
    try {
      writeValue(v, depth + 1);
    } catch (e) {
      throw withPath(e, `.${keyName(k)}`);
    }
  }
  // forget the values (they may be large) but keep the arrays' storage: truncating them with
  // `length = 0` gave it back, and it was allocated again for the next map (~2.7 KB per patch)
  for (let i = 0; i < n; i++) values[i] = null;
}

/** Copies an encoded key in: byte by byte, which beats `set` for the few bytes keys take. */
function writeKey(k: Uint8Array): void {
  const n = k.length;
  ensure(n);
  if (n > 16) {
    buf.set(k, pos);
    pos += n;
    return;
  }
  for (let i = 0; i < n; i++) buf[pos++] = k[i]!;
}

function keyName(k: Uint8Array): string {
  const n = k.length - headSize(k.length);
  return new TextDecoder().decode(k.subarray(k.length - n));
}

function withPath(e: unknown, segment: string): unknown {
  if (!(e instanceof CborEncodeError)) return e;
  const path = `$${segment}${e.path.slice(1)}`;
  const message = e.message.slice(0, e.message.length - e.path.length - 4);
  return new CborEncodeError(e.reason, path, message);
}

function writeValue(v: CborValue, depth: number): void {
  if (depth > MAX_DEPTH) fail('too-deep', `value nests deeper than ${MAX_DEPTH} (is it cyclic?)`);
  switch (typeof v) {
    case 'string':
      writeText(v);
      return;
    case 'number':
      writeNumber(v);
      return;
    case 'boolean':
      ensure(1);
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'bigint':
      writeBigint(v);
      return;
    case 'undefined':
      fail('undefined', 'undefined has no canonical CBOR form');
      return;
    case 'object': {
      if (v === null) {
        ensure(1);
        buf[pos++] = 0xf6;
        return;
      }
      if (v instanceof Uint8Array) {
        writeHead(2, v.length);
        if (sink !== undefined && v.length >= SINK_DIRECT) {
          sink(buf.subarray(start, pos));
          sink(v);
          pos = start;
          return;
        }
        ensure(v.length);
        buf.set(v, pos);
        pos += v.length;
        return;
      }
      if (Array.isArray(v)) {
        const arr = v as readonly CborValue[];
        writeHead(4, arr.length);
        for (let i = 0; i < arr.length; i++) {
          try {
            writeValue(arr[i]!, depth + 1);
          } catch (e) {
            throw withPath(e, `[${i}]`);
          }
        }
        return;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== objectProto && proto !== null) {
        const ctor = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        fail('unsupported-type', `a ${ctor} has no canonical CBOR form (use plain objects)`);
      }
      writeMap(v as { readonly [k: string]: CborValue | undefined }, depth);
      return;
    }
    default:
      fail('unsupported-type', `a ${typeof v} has no canonical CBOR form`);
  }
}

/** Encodes `value` as canonical CBOR. Throws {@link CborEncodeError} naming the path on bad input. */
export function encode(value: CborValue): Uint8Array {
  pos = start;
  try {
    writeValue(value, 0);
  } catch (e) {
    pos = start;
    throw e;
  }
  return finish();
}

/**
 * The canonical key order of a map whose key names are known ahead (an envelope's), worked out
 * once, so that `encodeMap` writes such maps without enumerating and sorting their keys each time.
 */
export class MapLayout {
  readonly names: readonly string[];
  /** The encoded keys, in canonical order. */
  readonly keys: readonly Uint8Array[];
  /** For each key in canonical order, its index in `names`. */
  readonly order: readonly number[];

  constructor(names: readonly string[]) {
    if (new Set(names).size !== names.length)
      throw new TypeError(`a map layout names a key twice: ${names.join(', ')}`);
    const encoded = names.map((n) => encodedKey(n).slice());
    const order = names
      .map((_, i) => i)
      .sort((a, b) => compareEncodedKeys(encoded[a]!, encoded[b]!));
    this.names = [...names];
    this.keys = order.map((i) => encoded[i]!);
    this.order = order;
  }
}

/**
 * Encodes the map `{names[i]: values[i]}` of `layout` as canonical CBOR: the same bytes as
 * `encode` of that object, whose values must all be defined. Throws {@link CborEncodeError}
 * naming the path on bad input.
 */
export function encodeMap(layout: MapLayout, values: readonly CborValue[]): Uint8Array {
  pos = start;
  const { keys, order } = layout;
  try {
    writeHead(5, keys.length);
    for (let i = 0; i < keys.length; i++) {
      writeKey(keys[i]!);
      const at = order[i]!;
      try {
        writeValue(values[at]!, 1);
      } catch (e) {
        throw withPath(e, `.${layout.names[at]!}`);
      }
    }
  } catch (e) {
    pos = start;
    throw e;
  }
  return finish();
}

/** The bytes written since `start`, as a view of the chunk or (when large) a copy; moves on. */
function finish(): Uint8Array {
  let out: Uint8Array;
  if (pos - start > LARGE) {
    // a large result is copied out, so the chunk keeps serving small ones
    out = copyBytes(buf, start, pos);
  } else {
    out = buf.subarray(start, pos);
    // keep the next item 8-byte aligned; once a chunk is mostly used, start a fresh one
    start = (pos + 7) & ~7;
    if (start > buf.length - 1024) {
      buf = new Uint8Array(CHUNK);
      view = new DataView(buf.buffer);
      start = 0;
    }
  }
  pos = start;
  return out;
}

/**
 * Streams the canonical encoding of `value` to `out` in parts, without building it whole: large
 * byte strings are passed through rather than copied. The concatenated parts equal `encode(value)`;
 * each part is valid only during its call. Used to hash nodes without copying their content.
 */
export function encodeTo(value: CborValue, out: (part: Uint8Array) => void): void {
  pos = start;
  sink = out;
  try {
    writeValue(value, 0);
    out(buf.subarray(start, pos));
  } finally {
    sink = undefined;
    pos = start;
  }
}
