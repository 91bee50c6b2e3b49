import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CborDecodeError,
  CborEncodeError,
  type CborValue,
  decode,
  encode,
  encodedLength,
  encodeTo,
  sizeBound,
} from '../../src/codec/index.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';
import { randomValue } from '../helpers/values.js';

/** What a value decodes back to: −0 is 0, integers are numbers when safe and bigints when not. */
function normalize(v: CborValue): CborValue {
  if (typeof v === 'number') {
    if (Object.is(v, -0)) return 0;
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return BigInt(v);
    return v;
  }
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return (v as CborValue[]).map(normalize);
  const out: Record<string, CborValue> = {};
  for (const [k, x] of Object.entries(v)) {
    // defineProperty, so that an own "__proto__" key stays data
    if (x !== undefined)
      Object.defineProperty(out, k, {
        value: normalize(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

const wellFormed = fc.string({ unit: 'grapheme', maxLength: 20 });
const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.double().filter((d) => !Number.isInteger(d) || Math.abs(d) < 2 ** 64),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    wellFormed,
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(wellFormed, tie('v'), { maxKeys: 5 }),
  ),
})).v;

function withSeed(filter: string, run: (seed: number) => void): void {
  const seed = testSeed();
  try {
    run(seed);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${replayHint(seed, filter)}`, { cause: e });
  }
}

describe('codec - properties', () => {
  it('decode(encode(x)) is x (normalized) and encode(decode(b)) is b', () => {
    withSeed('cbor-properties', (seed) => {
      fc.assert(
        fc.property(value, (x) => {
          const b = encode(x);
          assert.deepStrictEqual(decode(b), normalize(x));
          assert.deepStrictEqual(encode(decode(b)), b);
        }),
        { seed, numRuns: iterations(2000, 200_000) },
      );
    });
  });
  it('sizeBound vouches only for what encodes, and bounds its length', () => {
    // values the encoder refuses, mixed in: undefined in an array, a lone surrogate, a class
    const bad = fc.constantFrom<CborValue>(
      [undefined] as unknown as CborValue,
      'a\ud800b',
      { 'k\udc00': 1 },
      new Date(0) as unknown as CborValue,
      (() => 1) as unknown as CborValue,
    );
    const mixed = fc.letrec<{ v: CborValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        value,
        bad,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(wellFormed, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    withSeed('cbor-properties', (seed) => {
      fc.assert(
        fc.property(mixed, fc.integer({ min: 0, max: 400 }), (x, limit) => {
          let bytes: Uint8Array | undefined;
          try {
            bytes = encode(x);
          } catch (e) {
            assert.ok(e instanceof CborEncodeError);
          }
          const n = sizeBound(x, limit);
          if (n === undefined) return; // "encode it and see": always allowed
          assert.ok(bytes !== undefined, 'vouched for a value the encoder refuses');
          assert.ok(bytes.length <= n, `bound ${n} < ${bytes.length} bytes`);
          assert.ok(n <= limit, `bound ${n} over the limit ${limit}`);
        }),
        { seed, numRuns: iterations(2000, 200_000) },
      );
    });
    // it does vouch for ordinary values, within a bound of a few times their size
    const plain = { i: 7, body: 'x'.repeat(64), list: [1, 2.5, null, true], b: new Uint8Array(9) };
    const n = sizeBound(plain, 4096);
    assert.ok(n !== undefined && n >= encode(plain).length && n < 4 * encode(plain).length);
    assert.equal(sizeBound(plain, 100), undefined, 'over the limit');
    let deep: CborValue = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    assert.equal(sizeBound(deep, 1e9), undefined, 'deeper than MAX_DEPTH');
  });

  it('encodedLength is the length encode gives, and undefined exactly where encode refuses', () => {
    const bad = fc.constantFrom<CborValue>(
      [undefined] as unknown as CborValue,
      'a\ud800b',
      '\udc00',
      { 'k\udc00': 1 },
      2n ** 64n,
      -(2n ** 64n) - 1n,
      new Date(0) as unknown as CborValue,
      (() => 1) as unknown as CborValue,
    );
    const edges = fc.constantFrom<CborValue>(
      23,
      24,
      255,
      256,
      65_535,
      65_536,
      2 ** 32 - 1,
      2 ** 32,
      -24,
      -25,
      -(2 ** 32) - 1,
      2 ** 53,
      -(2 ** 53),
      2 ** 64 - 2 ** 11,
      2n ** 32n,
      2n ** 64n - 1n,
      -(2n ** 64n),
      0.5,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      'é',
      '€',
      '𝄞',
      'x'.repeat(300),
      { clé: 'valeur' },
      { a: undefined, b: 1 },
    );
    const mixed = fc.letrec<{ v: CborValue }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        value,
        bad,
        edges,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    withSeed('cbor-properties', (seed) => {
      fc.assert(
        fc.property(mixed, (x) => {
          let bytes: Uint8Array | undefined;
          try {
            bytes = encode(x);
          } catch (e) {
            assert.ok(e instanceof CborEncodeError);
          }
          assert.equal(encodedLength(x), bytes?.length);
        }),
        { seed, numRuns: iterations(3000, 300_000) },
      );
    });
    let deep: CborValue = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    assert.equal(encodedLength(deep), undefined, 'deeper than MAX_DEPTH');
  });

  it('encodeTo streams exactly the bytes encode returns', () => {
    withSeed('cbor-properties', (seed) => {
      fc.assert(
        fc.property(
          fc.oneof(
            value,
            fc.uint8Array({ minLength: 500, maxLength: 3000 }).map((b) => [b, { b }]),
          ),
          (x) => {
            const parts: Buffer[] = [];
            encodeTo(x, (p) => parts.push(Buffer.from(p)));
            assert.deepStrictEqual(new Uint8Array(Buffer.concat(parts)), encode(x));
          },
        ),
        { seed, numRuns: iterations(1000, 100_000) },
      );
    });
  });
  it('key insertion order never changes the bytes', () => {
    withSeed('cbor-properties', (seed) => {
      fc.assert(
        fc.property(fc.dictionary(wellFormed, fc.integer(), { maxKeys: 12 }), (d) => {
          const reversed = Object.fromEntries(Object.entries(d).reverse());
          assert.deepStrictEqual(encode(reversed), encode(d));
        }),
        { seed, numRuns: iterations(1000, 100_000) },
      );
    });
  });
});

/** Random and mutated inputs: nothing but a CborDecodeError may escape, and what is accepted is canonical. */
function fuzzOne(input: Uint8Array): void {
  let v: CborValue;
  try {
    v = decode(input);
  } catch (e) {
    if (e instanceof CborDecodeError) return;
    throw new Error(`decode threw ${String(e)} for ${Buffer.from(input).toString('hex')}`, {
      cause: e,
    });
  }
  const again = encode(v);
  if (Buffer.compare(Buffer.from(again), Buffer.from(input)) !== 0) {
    throw new Error(`accepted non-canonical input ${Buffer.from(input).toString('hex')}`);
  }
}

function mutate(r: ReturnType<typeof rng>, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  switch (r.int(5)) {
    case 0: {
      if (out.length > 0) out[r.int(out.length)]! ^= 1 << r.int(8);
      return out;
    }
    case 1: {
      if (out.length > 0) out[r.int(out.length)] = r.int(256);
      return out;
    }
    case 2:
      return out.subarray(0, r.int(out.length + 1));
    case 3: {
      const at = r.int(out.length + 1);
      const ins = r.bytes(1 + r.int(3));
      return Uint8Array.from([...out.subarray(0, at), ...ins, ...out.subarray(at)]);
    }
    default: {
      const at = r.int(out.length + 1);
      return Uint8Array.from([
        ...out.subarray(0, at),
        ...out.subarray(Math.min(out.length, at + 1 + r.int(3))),
      ]);
    }
  }
}

describe('codec - fuzz', () => {
  it('random and mutated inputs yield values or CborDecodeError, nothing else', () => {
    withSeed('cbor-properties', (seed) => {
      const r = rng(seed);
      const n = iterations(10_000, 1_000_000);
      for (let i = 0; i < n; i++) {
        if (i % 3 === 0) fuzzOne(r.bytes(r.int(48)));
        else {
          let b = encode(randomValue(r));
          for (let m = 1 + r.int(3); m > 0; m--) b = mutate(r, b);
          fuzzOne(b);
        }
      }
    });
  });
});
