/**
 * Quorum verification (issue 8, build item 3): the tier edge cases — 4 of 6 passes tier 6,
 * abstentions never help, the chairman may only veto, one key or one model counts once — and the
 * signed verdict any holder of the trust store re-checks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../src/codec/index.js';
import {
  checkVerdict,
  QuorumInputError,
  questionDigest,
  signVerdict,
  signVote,
  TIER_FOR_RISK,
  TIERS,
  type TierName,
  tally,
  VerdictRefusedError,
  type Vote,
  type VoteChoice,
  verdictSigningBytes,
} from '../../src/governance/index.js';
import { KeyPair, keySigner, type Signer, TrustStore } from '../../src/identity/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';

const names = ['chair', 'v1', 'v2', 'v3', 'v4', 'v5', 'coord', 'outsider'];
const keys = new Map(names.map((n, i) => [n, KeyPair.fromSeed(new Uint8Array(32).fill(i + 1))]));
const trust = TrustStore.memory(
  names
    .filter((n) => n !== 'outsider')
    .map((n) => ({ agent: n, publicKey: keys.get(n)!.publicKey, role: 'agent' as const })),
);
const signer = (n: string): Signer => keySigner(n, keys.get(n)!);
const q = questionDigest({ id: 'tx-1', subject: 'snapshot 3f2a', text: 'Is the fix correct?' });
const six = ['chair', 'v1', 'v2', 'v3', 'v4', 'v5'];
const vote = (who: string, v: VoteChoice, model = `model-${who}`): Vote =>
  signVote(q, signer(who), { model, vote: v, reason: `${who} says ${v}` });
const run = (tier: TierName, voters: string[], votes: Vote[]) =>
  tally({ question: q, tier, voters, votes }, trust);

describe('quorum tiers', () => {
  it('are data, chosen from the risk', () => {
    assert.deepEqual(
      (['S', '4', '6', '8'] as const).map((n) => [
        TIERS[n].name,
        TIERS[n].voters,
        TIERS[n].required,
        TIERS[n].chairmanVeto,
      ]),
      [
        ['S', 1, 1, false],
        ['4', 4, 3, false],
        ['6', 6, 4, false],
        ['8', 6, 6, true],
      ],
    );
    assert.deepEqual(TIER_FOR_RISK, { low: 'S', medium: '4', high: '6', critical: '8' });
  });

  it('tier 6: 4 of 6 passes (exact 2/3, no float error); 3 of 6 does not', () => {
    const t = run('6', six, [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      vote('v2', 'agree'),
      vote('v3', 'agree'),
      vote('v4', 'disagree'),
      vote('v5', 'disagree'),
    ]);
    assert.deepEqual([t.agree, t.disagree, t.passed, t.reason], [4, 2, true, 'passed']);
    const three = run('6', six, [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      vote('v2', 'agree'),
      vote('v3', 'disagree'),
      vote('v4', 'disagree'),
      vote('v5', 'disagree'),
    ]);
    assert.deepEqual([three.passed, three.reason], [false, 'too-few-agree']);
  });

  it('abstentions and timeouts never help a pass', () => {
    // tier 4: 3 agree needed; 2 agree + 2 abstain fails even though the ratio over non-abstaining is 1
    const four = ['chair', 'v1', 'v2', 'v3'];
    const t = run('4', four, [vote('chair', 'agree'), vote('v1', 'agree'), vote('v2', 'abstain')]);
    assert.deepEqual([t.agree, t.abstain, t.passed, t.reason], [2, 2, false, 'too-few-agree']);
    // 3 agree + 1 disagree passes tier 4 (3/4); 3 agree + 2 disagree could not happen with 4
    assert.equal(
      run('4', four, [
        vote('chair', 'agree'),
        vote('v1', 'agree'),
        vote('v2', 'agree'),
        vote('v3', 'disagree'),
      ]).passed,
      true,
    );
    // tier 6 with 4 agree and 2 silent: passes on its agree votes, the silence adds nothing
    const six4 = run('6', six, [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      vote('v2', 'agree'),
      vote('v3', 'agree'),
    ]);
    assert.deepEqual([six4.abstain, six4.passed], [2, true]);
  });

  it('the ratio is checked over non-abstaining votes with integers', () => {
    // a custom question of the ratio alone: tier 4 needs 3 agree and agree×4 ≥ 3×(agree+disagree)
    const four = ['chair', 'v1', 'v2', 'v3'];
    const t = run('4', four, [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      vote('v2', 'agree'),
      vote('v3', 'agree'),
    ]);
    assert.equal(t.passed, true);
  });

  it("tier 8: all six must agree; the chairman's disagree vetoes; the chairman's agree cannot force a pass", () => {
    const all = six.map((v) => vote(v, 'agree'));
    assert.equal(run('8', six, all).passed, true);
    const veto = run('8', six, [
      vote('chair', 'disagree'),
      ...six.slice(1).map((v) => vote(v, 'agree')),
    ]);
    assert.deepEqual([veto.passed, veto.reason], [false, 'chairman-veto']);
    const forced = run('8', six, [vote('chair', 'agree'), vote('v1', 'abstain')]);
    assert.deepEqual([forced.passed, forced.reason], [false, 'too-few-agree']);
    // the same disagree from a member who is not the chairman is not a veto, though it still fails 6/6
    const member = run('8', six, [
      ...six.slice(0, 5).map((v) => vote(v, 'agree')),
      vote('v5', 'disagree'),
    ]);
    assert.equal(member.reason, 'too-few-agree');
  });

  it('one key voting twice, and two voters on one model, count once', () => {
    const four = ['chair', 'v1', 'v2', 'v3'];
    const twice = run('4', four, [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      signVote(q, signer('v1'), { model: 'other-model', vote: 'agree' }),
    ]);
    assert.equal(twice.agree, 2);
    assert.deepEqual(
      twice.refused.map((r) => r.why),
      ['same-key'],
    );
    const shared = run('4', four, [
      vote('chair', 'agree', 'gpt-x'),
      vote('v1', 'agree', 'gpt-x'),
      vote('v2', 'agree', 'gpt-x'),
      vote('v3', 'agree', 'claude-y'),
    ]);
    assert.deepEqual([shared.agree, shared.passed], [2, false]);
    assert.deepEqual(
      shared.refused.map((r) => r.why),
      ['same-model', 'same-model'],
    );
    // the outcome does not depend on arrival order
    const a = run('4', four, [
      vote('v1', 'agree', 'm'),
      vote('v2', 'disagree', 'm'),
      vote('chair', 'agree'),
    ]);
    const b = run('4', four, [
      vote('v2', 'disagree', 'm'),
      vote('chair', 'agree'),
      vote('v1', 'agree', 'm'),
    ]);
    assert.deepEqual(a, b);
  });

  it('leaves out votes that are forged, uninvited, unknown or about another question', () => {
    const four = ['chair', 'v1', 'v2', 'v3'];
    const forged = { ...vote('v1', 'disagree'), vote: 'agree' as const };
    const other = signVote(questionDigest({ id: 'tx-2', subject: 's', text: 't' }), signer('v2'), {
      model: 'm2',
      vote: 'agree',
    });
    const outsider = signVote(q, signer('outsider'), { model: 'm9', vote: 'agree' });
    const uninvited = vote('v4', 'agree');
    const wrongKey = {
      ...signVote(q, keySigner('v3', keys.get('v5')!), { model: 'm3', vote: 'agree' }),
    };
    const t = run(
      '4',
      [...four.slice(0, 3), 'outsider'],
      [forged, other, outsider, uninvited, wrongKey, vote('chair', 'agree')],
    );
    assert.equal(t.agree, 1);
    assert.deepEqual(t.refused.map((r) => `${r.voter}:${r.why}`).sort(), [
      'outsider:unknown-voter',
      'v1:bad-signature',
      'v2:other-question',
      'v3:not-invited',
      'v4:not-invited',
    ]);
    const wk = run('4', four, [wrongKey]);
    assert.deepEqual(
      wk.refused.map((r) => r.why),
      ['wrong-key'],
    );
    assert.deepEqual(
      run('4', four, [{ voter: 'v1' } as never]).refused.map((r) => r.why),
      ['malformed'],
    );
  });

  it('refuses a malformed request with a typed error', () => {
    assert.throws(() => run('5' as never, six, []), QuorumInputError);
    assert.throws(() => run('6', six.slice(0, 5), []), /tier 6 asks 6 verifiers, not 5/);
    assert.throws(
      () => run('S', ['chair', 'chair'].slice(0, 1).concat('chair'), []),
      /invited twice/,
    );
    assert.throws(() => questionDigest({ id: '', subject: 's', text: 't' }), /non-empty id/);
    assert.throws(
      () => signVote(q, signer('v1'), { model: 'm', vote: 'maybe' as never }),
      /agree, disagree or abstain/,
    );
  });
});

describe('the signed verdict', () => {
  const input = {
    question: q,
    tier: '4' as const,
    voters: ['chair', 'v1', 'v2', 'v3'],
    votes: [
      vote('chair', 'agree'),
      vote('v1', 'agree'),
      vote('v2', 'agree'),
      vote('v3', 'abstain'),
    ],
  };

  it('is verifiable by anyone with the trust store', () => {
    const v = signVerdict(input, signer('coord'), trust);
    assert.equal(v.passed, true);
    const t = checkVerdict(JSON.parse(JSON.stringify(v)), trust);
    assert.equal(t.agree, 3);
  });

  it('refuses a verdict whose outcome, votes, signer or signature was changed', () => {
    const v = signVerdict(input, signer('coord'), trust);
    const why = (x: unknown) => {
      try {
        checkVerdict(x as never, trust);
        return 'accepted';
      } catch (e) {
        assert.ok(e instanceof VerdictRefusedError);
        return String(e.details.reason);
      }
    };
    assert.equal(why({ ...v, passed: false }), 'bad-signature');
    assert.equal(why({ ...v, by: 'v1' }), 'wrong-key');
    assert.equal(why({ ...v, by: 'outsider' }), 'unknown-signer');
    assert.equal(why({ ...v, votes: v.votes.slice(1) }), 'bad-signature');
    // signed with the coordinator's own key, but its tally does not follow from its votes
    const { signature: _, ...honest } = v;
    const lie = { ...honest, votes: honest.votes.slice(0, 2) };
    const lying = { ...lie, signature: toHex(signer('coord').sign(verdictSigningBytes(lie))) };
    assert.equal(why(lying), 'tally');
    assert.throws(() => checkVerdict(lying, trust), /the verdict says agree = 3, its votes give 2/);
  });
});

describe('quorum tally properties (seeded)', () => {
  it('order never matters, an abstention never helps, an extra agree never hurts', () => {
    const seed = testSeed();
    const choice = fc.constantFrom<VoteChoice>('agree', 'disagree', 'abstain');
    const tierArb = fc.constantFrom<TierName>('S', '4', '6', '8');
    try {
      fc.assert(
        fc.property(
          tierArb,
          fc.array(fc.option(choice, { nil: undefined }), { minLength: 6, maxLength: 6 }),
          fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
          (tierName, choices, order) => {
            const voters = six.slice(0, TIERS[tierName].voters);
            const votes = voters.flatMap((v, i) =>
              choices[i] === undefined ? [] : [vote(v, choices[i]!)],
            );
            const t = run(tierName, voters, votes);
            // any arrival order gives the same tally
            const shuffled = votes
              .map((v, i) => [order[i] ?? 0, v] as const)
              .sort((a, b) => a[0] - b[0])
              .map(([, v]) => v);
            assert.deepEqual(run(tierName, voters, shuffled), t);
            assert.equal(t.agree + t.disagree + t.abstain, voters.length);
            // a passing tally has enough agree votes, by exact integers
            if (t.passed) {
              const [num, den] = TIERS[tierName].ratio;
              assert.ok(t.agree >= TIERS[tierName].required);
              assert.ok(t.agree * den >= num * (t.agree + t.disagree));
            }
            for (let i = 0; i < voters.length; i++) {
              const v = voters[i]!;
              const others = votes.filter((x) => x.voter !== v);
              // turning any vote (or silence) into an abstention never makes a failing tally pass
              if (!t.passed)
                assert.equal(run(tierName, voters, [...others, vote(v, 'abstain')]).passed, false);
              // turning it into an agree never makes a passing tally fail
              if (t.passed)
                assert.equal(run(tierName, voters, [...others, vote(v, 'agree')]).passed, true);
            }
          },
        ),
        { seed, numRuns: iterations(40, 2000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'governance/quorum')}`, {
        cause: e,
      });
    }
  });
});
