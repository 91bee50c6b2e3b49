import { headSize } from './encode.js';
import { MAX_DEPTH } from './limits.js';
import type { CborValue } from './value.js';

/** The largest CBOR head (a major type and a 64-bit argument). */
const HEAD = 9;
const objectProto = Object.prototype;

/**
 * An upper bound on the length of `value`'s canonical encoding, found without encoding it, or
 * undefined when this cannot vouch that `value` encodes at all or within `limit` bytes: a type
 * the encoder refuses or that this does not look into (a bigint, undefined in an array, a class
 * instance), a string with a lone surrogate, nesting deeper than `MAX_DEPTH`, or a bound over
 * `limit`. Undefined means "encode it and see" (the encoder then gives the exact answer, or its
 * typed error); a number means the encoder succeeds with at most that many bytes.
 */
export function sizeBound(value: CborValue, limit: number): number | undefined {
  const n = bound(value, 0, limit);
  return n < 0 || n > limit ? undefined : n;
}

/** The bound, or -1 (see `sizeBound`). `room`: what may still be spent before giving up. */
function bound(v: CborValue, depth: number, room: number): number {
  if (depth > MAX_DEPTH) return -1;
  switch (typeof v) {
    case 'string': {
      // UTF-8 takes at most 3 bytes per UTF-16 unit
      const n = HEAD + 3 * v.length;
      return n > room || !v.isWellFormed() ? -1 : n;
    }
    case 'number':
    case 'boolean':
      return HEAD;
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Uint8Array) return HEAD + v.length > room ? -1 : HEAD + v.length;
      let total = HEAD;
      if (Array.isArray(v)) {
        for (const x of v as readonly CborValue[]) {
          if (x === undefined) return -1;
          const n = bound(x, depth + 1, room - total);
          if (n < 0) return -1;
          total += n;
        }
        return total > room ? -1 : total;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== objectProto && proto !== null) return -1;
      const map = v as { readonly [k: string]: CborValue | undefined };
      for (const k in map) {
        if (!Object.hasOwn(map, k)) continue;
        const x = map[k];
        if (x === undefined) continue; // the encoder leaves it out
        const kn = HEAD + 3 * k.length;
        if (!k.isWellFormed()) return -1;
        const n = bound(x, depth + 1, room - total - kn);
        if (n < 0) return -1;
        total += kn + n;
      }
      return total > room ? -1 : total;
    }
    default:
      return -1;
  }
}

const MAX_U64 = (1n << 64n) - 1n;

/** UTF-8 length of `s`, or -1 when it holds a lone surrogate (which has no UTF-8 form). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -1;
      i++; // a pair: two UTF-16 units, four bytes
      n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * The exact length of `value`'s canonical encoding, found without writing it, or undefined when
 * the encoder would refuse `value` (encode it to learn why). For callers that need an encoded
 * size but not the bytes: an in-process message is handed over without its bytes, and asking a
 * rate limit for its size must not encode it. The tests hold it to `encode(value).length`.
 */
export function encodedLength(value: CborValue): number | undefined {
  const n = exact(value, 0);
  return n < 0 ? undefined : n;
}

function exact(v: CborValue, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  switch (typeof v) {
    case 'string': {
      const n = utf8Length(v);
      return n < 0 ? -1 : headSize(n) + n;
    }
    case 'number':
      if (!Number.isInteger(v)) return 9; // every float is written as a float64
      if (Number.isSafeInteger(v)) return headSize(v >= 0 ? v : -1 - v);
      return exactBig(BigInt(v));
    case 'bigint':
      return exactBig(v);
    case 'boolean':
      return 1;
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Uint8Array) return headSize(v.length) + v.length;
      if (Array.isArray(v)) {
        let total = headSize(v.length);
        for (const x of v as readonly CborValue[]) {
          if (x === undefined) return -1;
          const n = exact(x, depth + 1);
          if (n < 0) return -1;
          total += n;
        }
        return total;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== objectProto && proto !== null) return -1;
      const map = v as { readonly [k: string]: CborValue | undefined };
      let count = 0;
      let total = 0;
      for (const k in map) {
        if (!Object.hasOwn(map, k)) continue;
        const x = map[k];
        if (x === undefined) continue; // the encoder leaves it out
        const kn = utf8Length(k);
        if (kn < 0) return -1;
        const n = exact(x, depth + 1);
        if (n < 0) return -1;
        total += headSize(kn) + kn + n;
        count++;
      }
      return headSize(count) + total;
    }
    default:
      return -1;
  }
}

function exactBig(v: bigint): number {
  const n = v >= 0n ? v : -1n - v;
  if (n > MAX_U64) return -1;
  return n < 0x1_0000_0000n ? headSize(Number(n)) : 9;
}
