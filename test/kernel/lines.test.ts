import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyHunks, diffLines, merge3 } from '../../src/kernel/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', 'x'), { maxLength: 25 });

describe('kernel - line diff and merge', () => {
  it('applying diffLines(a, b) to a gives b', () => {
    const seed = testSeed();
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        assert.deepEqual(applyHunks(a, diffLines(a, b)), b);
      }),
      {
        seed,
        numRuns: iterations(2000, 100_000),
        examples: [
          [[], []],
          [['a'], []],
          [[], ['a']],
        ],
      },
    );
  });
  it('merge3 takes both sides when they touch different lines, and one side when they agree', () => {
    const base = ['1', '2', '3', '4', '5'];
    assert.deepEqual(merge3(base, ['ONE', '2', '3', '4', '5'], ['1', '2', '3', '4', 'FIVE']), [
      'ONE',
      '2',
      '3',
      '4',
      'FIVE',
    ]);
    assert.deepEqual(merge3(base, ['1', 'TWO', '3', '4', '5'], ['1', 'TWO', '3', '4', '5']), [
      '1',
      'TWO',
      '3',
      '4',
      '5',
    ]);
    assert.deepEqual(merge3(base, base, ['1', '2', 'x', '3', '4', '5']), [
      '1',
      '2',
      'x',
      '3',
      '4',
      '5',
    ]);
    assert.equal(
      merge3(base, ['1', 'A', '3', '4', '5'], ['1', 'B', '3', '4', '5']),
      undefined,
      'overlapping edits conflict',
    );
    assert.equal(
      merge3(base, ['1', '2', 'p', '3', '4', '5'], ['1', '2', 'q', '3', '4', '5']),
      undefined,
      'two inserts at one point conflict',
    );
  });
  it('merge3 is symmetric in ours and theirs', () => {
    const seed = testSeed();
    fc.assert(
      fc.property(lines, lines, lines, (b, x, y) => {
        assert.deepEqual(merge3(b, x, y), merge3(b, y, x), replayHint(seed, 'lines'));
      }),
      { seed, numRuns: iterations(2000, 100_000) },
    );
  });
  it('merge3 of an unchanged side is the other side', () => {
    const seed = testSeed();
    fc.assert(
      fc.property(lines, lines, (b, x) => {
        assert.deepEqual(merge3(b, x, b), x);
        assert.deepEqual(merge3(b, b, x), x);
      }),
      { seed, numRuns: iterations(2000, 100_000) },
    );
  });
});
