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
