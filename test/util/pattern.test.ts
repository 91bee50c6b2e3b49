import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patternMatcher } from '../../src/util/pattern.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

/** The definition: split both into tokens; `*` is one token, a last `>` one or more. */
function matchesBySplit(pattern: string, name: string): boolean {
  const ps = pattern.split('.');
  const ts = name.split('.');
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    if (p === '>') return ts.length > i;
    if (i >= ts.length) return false;
    if (p !== '*' && p !== ts[i]) return false;
  }
  return ts.length === ps.length;
}

describe('patternMatcher', () => {
  it('matches NATS-style wildcards', () => {
    const m = patternMatcher('jit.sws.*.patch');
    assert.ok(m('jit.sws.ab.patch'));
    assert.ok(!m('jit.sws.ab.commit'));
    assert.ok(!m('jit.sws.patch'));
    assert.ok(!m('jit.sws.ab.patch.x'));
    assert.ok(!m('jit.sws.ab.patchx'));
    const all = patternMatcher('jit.>');
    assert.ok(all('jit.a') && all('jit.a.b'));
    assert.ok(!all('jit') && !all('jitx.a'));
    assert.ok(patternMatcher('>')('anything.at.all'));
  });

  it('agrees with the token-by-token definition (seeded random names and patterns)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const tokens = ['a', 'b', 'ab', 'ba', '', 'jit', 'sws'];
    const name = (): string => Array.from({ length: 1 + r.int(4) }, () => r.pick(tokens)).join('.');
    for (let k = 0; k < iterations(20_000, 200_000); k++) {
      const ps = Array.from({ length: 1 + r.int(4) }, () => r.pick([...tokens, '*', '*']));
      if (r.int(3) === 0) ps[ps.length - 1] = '>';
      const pattern = ps.join('.');
      const n =
        r.int(3) === 0 ? pattern.replaceAll('*', r.pick(tokens)).replace('>', 'x.y') : name();
      assert.equal(
        patternMatcher(pattern)(n),
        matchesBySplit(pattern, n),
        `${pattern} against ${n}; ${replayHint(seed, 'pattern')}`,
      );
    }
  });
});
