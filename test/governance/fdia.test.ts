/**
 * The FDIA gate F = D^I × A (issue 8, build item 2): the explicit ranges, the zero rules (never
 * 0⁰ = 1), the clamp, the threshold and its default, and a seeded property run of the formula.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_FDIA_THRESHOLD, FdiaRangeError, fdia } from '../../src/governance/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

describe('the FDIA gate', () => {
  it('computes D^I × A: a more precise intent demands better data', () => {
    const d = fdia({ D: 0.8, I: 2, A: 1 });
    assert.equal(d.F, 0.64);
    assert.equal(d.allowed, true);
    assert.equal(d.threshold, DEFAULT_FDIA_THRESHOLD);
    assert.equal(DEFAULT_FDIA_THRESHOLD, 0.6);
    assert.equal(fdia({ D: 0.8, I: 1, A: 1 }).F, 0.8);
    assert.equal(fdia({ D: 0.8, I: 0.5, A: 1 }).F, Math.round(Math.sqrt(0.8) * 1e9) / 1e9);
    // half approval blocks any intent at the default threshold
    assert.equal(fdia({ D: 1, I: 0.5, A: 0.5 }).allowed, false);
    assert.deepEqual(fdia({ D: 0.9, I: 1, A: 0.7 }), {
      D: 0.9,
      I: 1,
      A: 0.7,
      F: 0.63,
      threshold: 0.6,
      allowed: true,
      profile: 'docs',
    });
  });

  it('gives F = 0 by rule when A = 0, D = 0, or (sdk profile) I = 0: never 0⁰ = 1', () => {
    assert.deepEqual(
      [fdia({ D: 1, I: 1, A: 0 }).rule, fdia({ D: 1, I: 1, A: 0 }).F],
      ['no-approval', 0],
    );
    assert.deepEqual(
      [fdia({ D: 0, I: 1, A: 1 }).rule, fdia({ D: 0, I: 1, A: 1 }).F],
      ['no-data', 0],
    );
    const sdk = fdia({ D: 0, I: 0, A: 1 }, { profile: 'sdk' });
    assert.equal(sdk.F, 0, 'Math.pow(0, 0) would give 1');
    const noIntent = fdia({ D: 0.9, I: 0, A: 1 }, { profile: 'sdk' });
    assert.deepEqual([noIntent.F, noIntent.rule, noIntent.allowed], [0, 'no-intent', false]);
    assert.equal(fdia({ D: 0, I: 0, A: 0 }, { threshold: 0, profile: 'sdk' }).allowed, true);
  });

  it('refuses a value outside its range with a typed error naming the field', () => {
    const bad: [Record<string, number>, string, 'docs' | 'sdk'][] = [
      [{ D: 1.2, I: 1, A: 1 }, 'D', 'docs'],
      [{ D: -0.1, I: 1, A: 1 }, 'D', 'docs'],
      [{ D: 1, I: 0.4, A: 1 }, 'I', 'docs'],
      [{ D: 1, I: 2.5, A: 1 }, 'I', 'docs'],
      [{ D: 1, I: 0, A: 1 }, 'I', 'docs'],
      [{ D: 1, I: 1.5, A: 1 }, 'I', 'sdk'],
      [{ D: 1, I: 1, A: 1.01 }, 'A', 'docs'],
      [{ D: Number.NaN, I: 1, A: 1 }, 'D', 'docs'],
      [{ D: 1, I: Number.POSITIVE_INFINITY, A: 1 }, 'I', 'sdk'],
    ];
    for (const [x, field, profile] of bad)
      assert.throws(
        () => fdia(x as never, { profile }),
        (e: unknown) => e instanceof FdiaRangeError && e.details.field === field,
        `${JSON.stringify(x)} ${profile}`,
      );
    assert.throws(() => fdia({ D: 1, I: 1, A: 1 }, { threshold: 1.5 }), /threshold 1.5/);
    assert.throws(() => fdia({ D: 1, I: 1, A: 1 }, { profile: 'game' as never }), /profile/);
    assert.throws(() => fdia(undefined as never), FdiaRangeError);
  });

  it('decides F ≥ threshold, and records every input of the decision', () => {
    assert.equal(fdia({ D: 0.75, I: 1, A: 1 }, { threshold: 0.75 }).allowed, true);
    assert.equal(fdia({ D: 0.7499, I: 1, A: 1 }, { threshold: 0.75 }).allowed, false);
    assert.equal(fdia({ D: 1, I: 2, A: 1 }, { threshold: 1 }).allowed, true);
  });

  it('property: F in [0, 1], monotone in D and A, and a stricter I never raises F', () => {
    const seed = testSeed();
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    const expo = fc.double({ min: 0.5, max: 2, noNaN: true });
    try {
      fc.assert(
        fc.property(unit, unit, expo, expo, unit, (d, a, i1, i2, dd) => {
          const f = fdia({ D: d, I: i1, A: a });
          assert.ok(f.F >= 0 && f.F <= 1);
          assert.equal(f.allowed, f.F >= f.threshold);
          const d2 = Math.min(1, d + dd);
          assert.ok(fdia({ D: d2, I: i1, A: a }).F >= f.F);
          const [lo, hi] = i1 <= i2 ? [i1, i2] : [i2, i1];
          assert.ok(fdia({ D: d, I: hi, A: a }).F <= fdia({ D: d, I: lo, A: a }).F);
          if (a === 0 || d === 0) assert.equal(f.F, 0);
        }),
        { seed, numRuns: iterations(2000, 200_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'governance/fdia')}`, {
        cause: e,
      });
    }
  });
});
