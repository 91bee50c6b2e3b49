import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentKeys, RecentPairs } from '../../src/mp/index.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

describe('duplicate windows', () => {
  it('RecentPairs answers like a reference model over random keys with repeats and evictions', () => {
    const seed = testSeed();
    const r = rng(seed);
    for (const size of [1, 2, 7, 64, 1000]) {
      const t = new RecentPairs(size);
      const model = new RecentKeys<string>(size);
      // a small key space, so repeats, collisions in the table and evictions all happen
      const space = size * 3 + 5;
      const keys = Array.from(
        { length: space },
        () => [r.int(2 ** 32) | 0, r.int(2 ** 31)] as const,
      );
      keys.push([0, 0], [-1, 2 ** 31 - 1]);
      for (let i = 0; i < iterations(20_000, 2_000_000); i++) {
        const [hi, lo] = keys[r.int(keys.length)]!;
        const want = model.add(`${hi},${lo}`);
        const got = t.add(hi, lo);
        if (got !== want)
          assert.fail(
            `size ${size}, step ${i}: add(${hi}, ${lo}) = ${got}, model ${want}. ${replayHint(seed, 'window')}`,
          );
      }
    }
  });
});
