import type { CborValue } from '../../src/codec/index.js';
import type { Rng } from './seed.js';

/** A random canonical-CBOR value of bounded depth, drawn from `r`. */
export function randomValue(r: Rng, depth = 0): CborValue {
  const k = r.int(depth > 3 ? 7 : 10);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.int(1 << 20) - (1 << 19);
    case 3:
      return r.pick([
        0,
        23,
        24,
        255,
        256,
        65535,
        65536,
        2 ** 32 - 1,
        2 ** 32,
        Number.MAX_SAFE_INTEGER,
        -1,
        -25,
      ]);
    case 4:
      return r.pick([0.5, -1.25, Math.PI, 1e-300, Number.NaN, Number.POSITIVE_INFINITY, 5e-324]);
    case 5:
      return r.bytes(r.int(40));
    case 6: {
      const chars = ['a', 'Z', 'é', '中', '😀', ' ', '0'];
      let s = '';
      for (let i = r.int(12); i > 0; i--) s += r.pick(chars);
      return s;
    }
    case 7: {
      const out: CborValue[] = [];
      for (let i = r.int(5); i > 0; i--) out.push(randomValue(r, depth + 1));
      return out;
    }
    default: {
      const out: Record<string, CborValue> = {};
      for (let i = r.int(5); i > 0; i--)
        out[r.pick(['a', 'b', 'op', 'ts', 'payload', 'é', 'zz', 'x1'])] = randomValue(r, depth + 1);
      return out;
    }
  }
}
