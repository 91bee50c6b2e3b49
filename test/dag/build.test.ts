import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { blobNode, encodeBlob, encodeNode } from '../../src/dag/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

describe('dag - build', () => {
  it('encodeBlob is encodeNode(blobNode(content)) for every length class', () => {
    // every head size a byte string can take, at both ends of each
    for (const n of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 70_000]) {
      const c = new Uint8Array(n).map((_, i) => i * 7);
      assert.deepStrictEqual(encodeBlob(c), encodeNode(blobNode(c)), `length ${n}`);
    }
    const seed = testSeed();
    try {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), (c) => {
          assert.deepStrictEqual(encodeBlob(c), encodeNode(blobNode(c)));
        }),
        { seed, numRuns: iterations(500, 50_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'encodeBlob')}`, { cause: e });
    }
  });
});
