import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CborDecodeError,
  type CborDecodeReason,
  CborEncodeError,
  type CborValue,
  decode,
  encode,
  toHex,
} from '../../src/codec/index.js';
import { hx } from '../helpers/hex.js';
import { TV1_HEX, TV1_VALUE, TV3_HEX, TV3_VALUE } from '../helpers/js-abi-vectors.js';

function rejects(bytes: Uint8Array, reason: CborDecodeReason, offset?: number): void {
  assert.throws(
    () => decode(bytes),
    (e: unknown) => {
      assert.ok(e instanceof CborDecodeError, `expected CborDecodeError, got ${String(e)}`);
      assert.equal(e.name, 'CborDecodeError');
      assert.equal(e.reason, reason);
      if (offset !== undefined) assert.equal(e.offset, offset);
      assert.equal(e.code, 2);
      return true;
    },
  );
}

describe('codec - golden vectors', () => {
  it('EC-01: TV1 handshake encodes to the 113 spec bytes', () => {
    const b = encode(TV1_VALUE);
    assert.equal(b.length, 0x71);
    assert.equal(toHex(b), TV1_HEX);
  });
  it('EC-02: TV3 error encodes to the 118 spec bytes', () => {
    const b = encode(TV3_VALUE);
    assert.equal(b.length, 0x76);
    assert.equal(toHex(b), TV3_HEX);
  });
  it('DC-01: TV1 and TV3 decode to their values', () => {
    assert.deepEqual(decode(hx(TV1_HEX)), TV1_VALUE);
    assert.deepEqual(decode(hx(TV3_HEX)), TV3_VALUE);
  });
});

describe('codec - encoder cases', () => {
  it('EC-03: integers take their minimal width', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [10, '0a'],
      [23, '17'],
      [24, '1818'],
      [255, '18ff'],
      [256, '190100'],
      [1000, '1903e8'],
      [65535, '19ffff'],
      [65536, '1a00010000'],
      [2 ** 32 - 1, '1affffffff'],
      [2 ** 32, '1b0000000100000000'],
      [-1, '20'],
      [-24, '37'],
      [-25, '3818'],
      [-256, '38ff'],
      [-257, '390100'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [Number.MIN_SAFE_INTEGER, '3b001ffffffffffffe'],
    ];
    for (const [v, h] of cases) assert.equal(toHex(encode(v)), h, `encode(${v})`);
  });
  it('EC-04: integral numbers are integers, others float64', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [-1, '20'],
      [42, '182a'],
      [0.0, '00'],
      [1.0, '01'],
      [-1.0, '20'],
      [-0, '00'],
      [0.5, 'fb3fe0000000000000'],
      [1.5, 'fb3ff8000000000000'],
      [-1.5, 'fbbff8000000000000'],
      [Number.NaN, 'fb7ff8000000000000'],
      [Number.POSITIVE_INFINITY, 'fb7ff0000000000000'],
      [Number.NEGATIVE_INFINITY, 'fbfff0000000000000'],
      [5e-324, 'fb0000000000000001'],
    ];
    for (const [v, h] of cases) assert.equal(toHex(encode(v)), h, `encode(${v})`);
  });
  it('EC-05: map keys sort by their encoded bytes (shorter first)', () => {
    const b = encode({ payload: 1, Z: 2, op: 3, aa: 4, ts: 5, a: 6 });
    // keys in order: "Z" (615a) < "a" (6161) < "aa" < "op" < "ts" < "payload"
    assert.equal(
      toHex(b),
      'a6' + '615a02' + '616106' + '62616104' + '626f7003' + '62747305' + '677061796c6f616401',
    );
    assert.deepEqual(Object.keys(decode(b) as object), ['Z', 'a', 'aa', 'op', 'ts', 'payload']);
  });
  it('EC-06: no tags and no indefinite lengths are ever produced', () => {
    const b = encode({
      list: [1, [2, [3]]],
      bytes: new Uint8Array(300),
      text: 'x'.repeat(300),
      m: {},
    });
    for (let i = 0; i < b.length; ) {
      // walk the heads: no byte that starts an item may be a tag (major 6) or have ai 31
      const ib = b[i]!;
      assert.notEqual(ib >> 5, 6, `tag at ${i}`);
      assert.notEqual(ib & 31, 31, `indefinite at ${i}`);
      i += 1;
      const ai = ib & 31;
      const major = ib >> 5;
      const arg = ai < 24 ? ai : ai === 24 ? b[i]! : ai === 25 ? (b[i]! << 8) | b[i + 1]! : 0;
      i += ai < 24 ? 0 : ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 8;
      if (major === 2 || major === 3) i += arg;
    }
  });
  it('encodes the simple values, bytes, text and bigints', () => {
    assert.equal(toHex(encode(null)), 'f6');
    assert.equal(toHex(encode(false)), 'f4');
    assert.equal(toHex(encode(true)), 'f5');
    assert.equal(toHex(encode({})), 'a0');
    assert.equal(toHex(encode([])), '80');
    assert.equal(toHex(encode(new Uint8Array([1, 2]))), '420102');
    assert.equal(toHex(encode('ü')), '62c3bc');
    assert.equal(toHex(encode('😀')), '64f09f9880');
    assert.equal(toHex(encode(2n ** 64n - 1n)), '1bffffffffffffffff');
    assert.equal(toHex(encode(-(2n ** 64n))), '3bffffffffffffffff');
    assert.equal(toHex(encode(5n)), '05');
    assert.equal(toHex(encode(2 ** 60)), '1b1000000000000000');
  });
  it('leaves out object properties whose value is undefined', () => {
    assert.equal(toHex(encode({ a: 1, b: undefined })), toHex(encode({ a: 1 })));
  });
  it('the same value encodes to the same bytes whatever its key insertion order', () => {
    assert.deepEqual(encode({ b: 1, a: { y: 2, x: 3 } }), encode({ a: { x: 3, y: 2 }, b: 1 }));
  });
  it('results of successive calls never alias each other', () => {
    const a = encode('first');
    const b = encode('second');
    assert.deepEqual(decode(a), 'first');
    assert.deepEqual(decode(b), 'second');
  });
});

describe('codec - encoder refusals', () => {
  const cases: [string, () => unknown, string, string][] = [
    ['undefined at top level', () => encode(undefined as unknown as CborValue), 'undefined', '$'],
    [
      'undefined in an array',
      () => encode([1, undefined] as unknown as CborValue),
      'undefined',
      '$[1]',
    ],
    [
      'a Date',
      () => encode({ when: new Date(0) } as unknown as CborValue),
      'unsupported-type',
      '$.when',
    ],
    [
      'a Map',
      () => encode({ a: [new Map()] } as unknown as CborValue),
      'unsupported-type',
      '$.a[0]',
    ],
    ['a function', () => encode((() => 1) as unknown as CborValue), 'unsupported-type', '$'],
    ['a symbol', () => encode(Symbol('x') as unknown as CborValue), 'unsupported-type', '$'],
    ['2^64', () => encode(2n ** 64n), 'integer-out-of-range', '$'],
    ['1e300', () => encode(1e300), 'integer-out-of-range', '$'],
    ['a lone surrogate', () => encode({ t: 'a\ud800b' }), 'lone-surrogate', '$.t'],
    ['a long lone surrogate', () => encode(`${'x'.repeat(100)}\udc00`), 'lone-surrogate', '$'],
    ['a lone surrogate key', () => encode({ '\ud800': 1 }), 'lone-surrogate', '$'],
  ];
  for (const [what, fn, reason, path] of cases) {
    it(`refuses ${what} naming the path`, () => {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof CborEncodeError, String(e));
        assert.equal(e.reason, reason);
        assert.equal(e.path, path);
        return true;
      });
    });
  }
  it('refuses a cyclic value instead of overflowing the stack', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    assert.throws(
      () => encode(a as CborValue),
      (e: unknown) => e instanceof CborEncodeError && e.reason === 'too-deep',
    );
  });
  it('keeps working after a refusal', () => {
    assert.throws(() => encode([1, 2, undefined] as unknown as CborValue));
    assert.equal(toHex(encode([1, 2])), '820102');
  });
});

describe('codec - decoder cases', () => {
  it('accepts the canonical byte cases', () => {
    const cases: [string, CborValue][] = [
      ['a0', {}],
      ['80', []],
      ['17', 23],
      ['1818', 24],
      ['18ff', 255],
      ['190100', 256],
      ['fb7ff8000000000000', Number.NaN],
      ['1b0020000000000000', 2n ** 53n],
      ['3b001ffffffffffffe', Number.MIN_SAFE_INTEGER],
      ['3b001fffffffffffff', -(2n ** 53n)],
      ['1bffffffffffffffff', 2n ** 64n - 1n],
    ];
    for (const [h, v] of cases) assert.deepEqual(decode(hx(h)), v, h);
  });
  it('−0.0 encodes as the bytes of +0', () => {
    assert.deepEqual(encode(-0), encode(0));
  });
  it('DC-02: refuses indefinite lengths', () => {
    rejects(hx('9f0102ff'), 'indefinite-length', 0);
    rejects(hx('5f4101ff'), 'indefinite-length', 0);
    rejects(hx('7f6161ff'), 'indefinite-length', 0);
    rejects(hx('bf616101ff'), 'indefinite-length', 0);
    rejects(hx('ff'), 'indefinite-length', 0);
  });
  it('DC-03: refuses non-minimal integers and lengths', () => {
    rejects(hx('190001'), 'non-minimal-integer', 0);
    rejects(hx('1817'), 'non-minimal-integer', 0);
    rejects(hx('1a0000ffff'), 'non-minimal-integer', 0);
    rejects(hx('1b00000000ffffffff'), 'non-minimal-integer', 0);
    rejects(hx('811801'), 'non-minimal-integer', 1);
    rejects(hx('5801ff'), 'non-minimal-integer', 0);
  });
  it('DC-04: refuses tags', () => {
    rejects(hx('c000'), 'tag', 0);
    rejects(hx('d8200000'), 'tag', 0);
    rejects(hx('8201c100'), 'tag', 2);
  });
  it('DC-05: refuses duplicate keys', () => {
    rejects(hx('a2616101616102'), 'duplicate-key', 4);
  });
  it('DC-06: refuses unsorted keys', () => {
    rejects(hx('a2617a01616101'), 'unsorted-keys', 4);
    // "aa" before "b" is bytewise-sorted text order, but the longer key must come last
    rejects(hx('a262616101616202'), 'unsorted-keys', 5);
  });
  it('refuses floats that are not canonical', () => {
    rejects(hx('fb3ff0000000000000'), 'integral-float', 0);
    rejects(hx('fb8000000000000000'), 'integral-float', 0);
    rejects(hx('fb0000000000000000'), 'integral-float', 0);
    rejects(hx('fb7ff8000000000001'), 'non-canonical-nan', 0);
    rejects(hx('fbfff8000000000000'), 'non-canonical-nan', 0);
    rejects(hx('f93c00'), 'float-width', 0);
    rejects(hx('fa3fc00000'), 'float-width', 0);
  });
  it('refuses undefined and other simple values', () => {
    rejects(hx('f7'), 'undefined', 0);
    rejects(hx('f0'), 'simple-value', 0);
    rejects(hx('f820'), 'simple-value', 0);
  });
  it('refuses truncation, trailing bytes, empty input', () => {
    rejects(hx('fb'), 'truncated', 0);
    rejects(hx('fb3ff8'), 'truncated', 0);
    rejects(hx('62c3'), 'truncated', 0);
    rejects(hx('8201'), 'truncated', 0); // declared 2 items, 1 byte left
    rejects(hx('820181'), 'truncated', 2);
    rejects(hx('a16161'), 'truncated', 3);
    rejects(hx('5bffffffffffffffff'), 'truncated', 0);
    rejects(hx('9b0000000100000000'), 'truncated', 0);
    rejects(hx('0000'), 'trailing-bytes', 1);
    rejects(new Uint8Array(0), 'empty', 0);
  });
  it('refuses reserved additional info, non-text keys and bad UTF-8', () => {
    rejects(hx('1c'), 'reserved-additional-info', 0);
    rejects(hx('a10101'), 'non-text-key', 1);
    rejects(hx('62c328'), 'invalid-utf8', 0);
    rejects(hx('63eda080'), 'invalid-utf8', 0);
  });
  it('refuses nesting deeper than the limit without overflowing the stack', () => {
    const deep = new Uint8Array(100_000).fill(0x81);
    rejects(deep, 'too-deep');
  });
  it('a "__proto__" key is plain data, never a prototype', () => {
    const v = decode(hx('a1695f5f70726f746f5f5fa1617801')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal((v as { x?: unknown }).x, undefined);
    assert.equal(toHex(encode(v as CborValue)), 'a1695f5f70726f746f5f5fa1617801');
  });
  it('returned byte strings are copies, not views of the input', () => {
    const input = hx('43010203');
    const out = decode(input) as Uint8Array;
    input[1] = 9;
    assert.deepEqual([...out], [1, 2, 3]);
  });
});
