import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blake3, blake3Prefixed, toHex } from '../../src/codec/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

describe('blake3Prefixed (plain-JavaScript BLAKE3 for one chunk)', () => {
  it('gives the published test vectors', () => {
    // BLAKE3 test vectors (input byte i is i % 251): lengths 1 and 1023
    assert.equal(
      toHex(blake3Prefixed(0, new Uint8Array(0))),
      '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213',
    );
    const x = new Uint8Array(1023).map((_, i) => i % 251);
    assert.equal(toHex(blake3Prefixed(x[0]!, x.subarray(1))), toHex(blake3(x)));
  });

  it('agrees with hash-wasm for every length up to two chunks, block edges included', () => {
    for (let n = 0; n <= 2100; n++) {
      const a = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
      const split = n % 97;
      const got = blake3Prefixed(n & 255, a.subarray(0, Math.min(split, n)), a.subarray(split));
      assert.equal(toHex(got), toHex(blake3(new Uint8Array([n & 255]), a)), `length ${n + 1}`);
    }
  });

  it('agrees with hash-wasm on random inputs (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    for (let k = 0; k < 2000; k++) {
      const a = r.bytes(r.int(400));
      const b = r.bytes(r.int(80));
      const p = r.int(256);
      assert.equal(
        toHex(blake3Prefixed(p, a, b)),
        toHex(blake3(new Uint8Array([p]), a, b)),
        replayHint(seed, 'blake3-small'),
      );
    }
  });
});
