import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, isHashHex, toHex } from '../../src/codec/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

function withSeed(run: (seed: number) => void): void {
  const seed = testSeed();
  try {
    run(seed);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${replayHint(seed, 'hex')}`, { cause: e });
  }
}

/** The oracle: Buffer's parser, which stops at the first bad pair, so it is checked first. */
function strictOracle(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

describe('codec - hex', () => {
  it('fromHex(toHex(b)) is b, for every length', () => {
    withSeed((seed) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
          const h = toHex(b);
          assert.equal(h, Buffer.from(b).toString('hex'));
          assert.deepStrictEqual(fromHex(h), b);
        }),
        { seed, numRuns: iterations(2000, 200_000) },
      );
    });
  });

  it('fromHex refuses what is not lowercase hex of even length, as the oracle does', () => {
    const alphabet = '0123456789abcdefABCDEFgz \u00e9\u0130\u{1F600}';
    const chars = [...alphabet];
    withSeed((seed) => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 70 }), (cs) => {
          const s = cs.join('');
          assert.deepStrictEqual(fromHex(s), strictOracle(s), JSON.stringify(s));
        }),
        { seed, numRuns: iterations(3000, 300_000) },
      );
    });
    // the 64-character ids, and one bad character at every position
    const id = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
    assert.equal(toHex(fromHex(id)!), id);
    assert.ok(isHashHex(id));
    for (let i = 0; i < 64; i++) {
      for (const bad of ['A', 'g', ' ', '\u0100']) {
        const s = id.slice(0, i) + bad + id.slice(i + 1);
        assert.equal(fromHex(s), undefined, s);
        assert.equal(isHashHex(s), false, s);
      }
    }
    assert.equal(fromHex(id.slice(1)), undefined);
    assert.deepStrictEqual(fromHex(''), new Uint8Array(0));
  });
});
