/**
 * Quorum verification (the reference's SignedAI), as data and one pure tally. Independent verifier
 * agents receive the same question and return signed votes; the tally counts each key and each
 * model once, treats silence as abstention, and compares with exact integer arithmetic. The
 * verdict carries every vote, so anyone with the trust store re-checks it (`checkVerdict`).
 */
import { createHash } from 'node:crypto';
import { type CborValue, encode, fromHex, toHex } from '../codec/index.js';
import { fingerprint, type Signer } from '../identity/index.js';
import type { PacketKeys } from '../jitna/index.js';
import { QuorumInputError, VerdictRefusedError } from './errors.js';
import type { RiskLevel } from './levels.js';

export type TierName = 'S' | '4' | '6' | '8';

export interface Tier {
  readonly name: TierName;
  /** How many verifiers are asked. */
  readonly voters: number;
  /** The fewest agree votes that pass. */
  readonly required: number;
  /** agree / (agree + disagree) must be at least num / den. */
  readonly ratio: readonly [num: number, den: number];
  /** The chairman's disagree blocks (the chairman's agree is one vote like any other). */
  readonly chairmanVeto: boolean;
}

/** rct-platform `signedai/core/registry.py`, with the ratio Delentia's runner adds. */
export const TIERS: Readonly<Record<TierName, Tier>> = {
  S: { name: 'S', voters: 1, required: 1, ratio: [1, 1], chairmanVeto: false },
  '4': { name: '4', voters: 4, required: 3, ratio: [3, 4], chairmanVeto: false },
  '6': { name: '6', voters: 6, required: 4, ratio: [2, 3], chairmanVeto: false },
  '8': { name: '8', voters: 6, required: 6, ratio: [1, 1], chairmanVeto: true },
};

/** The reference's mapping: low → S, medium → 4, high → 6, critical → 8. */
export const TIER_FOR_RISK: Readonly<Record<RiskLevel, TierName>> = {
  low: 'S',
  medium: '4',
  high: '6',
  critical: '8',
};

export function tier(name: TierName | string): Tier {
  const t = (TIERS as Record<string, Tier>)[name];
  if (t === undefined)
    throw new QuorumInputError(`no quorum tier ${JSON.stringify(name)}; there are S, 4, 6 and 8`, {
      tier: String(name),
    });
  return t;
}

/** What the verifiers are asked. Its digest is what each vote signs. */
export interface Question {
  /** The transaction (or any id the asker chooses). */
  readonly id: string;
  /** What is to be judged: a snapshot or SWS id, a patch digest… */
  readonly subject: string;
  /** The question in words. */
  readonly text: string;
}

const QUESTION_DOMAIN = 'jitna.question.v1\u0000';
const VOTE_DOMAIN = new TextEncoder().encode('jitna.vote.v1\u0000');
const VERDICT_DOMAIN = new TextEncoder().encode('jitna.verdict.v1\u0000');

export function questionDigest(q: Question): string {
  for (const k of ['id', 'subject', 'text'] as const)
    if (typeof q?.[k] !== 'string' || q[k] === '')
      throw new QuorumInputError(`a question needs a non-empty ${k}`, { field: k });
  return createHash('sha256')
    .update(QUESTION_DOMAIN)
    .update(encode({ id: q.id, subject: q.subject, text: q.text }))
    .digest('hex');
}

export type VoteChoice = 'agree' | 'disagree' | 'abstain';

export interface Vote {
  /** The question's digest. */
  readonly question: string;
  readonly voter: string;
  /** The model that formed the opinion (votes from one model count once). */
  readonly model: string;
  readonly vote: VoteChoice;
  readonly reason: string;
  /** Fingerprint of the voter's key. */
  readonly key_id: string;
  /** Ed25519 over `"jitna.vote.v1\0"` and the canonical CBOR of the vote without it (hex). */
  readonly signature: string;
}

function signed(domain: Uint8Array, body: unknown): Uint8Array {
  const b = encode(body as CborValue);
  const out = new Uint8Array(domain.length + b.length);
  out.set(domain, 0);
  out.set(b, domain.length);
  return out;
}

/** The bytes a vote's signature covers: the domain, then the canonical CBOR of the vote without it. */
export function voteSigningBytes(v: Omit<Vote, 'signature'> | Vote): Uint8Array {
  const { signature: _, ...body } = v as Vote;
  return signed(VOTE_DOMAIN, body);
}

/** The bytes a verdict's signature covers: the domain, then the canonical CBOR of the verdict without it. */
export function verdictSigningBytes(v: Omit<Verdict, 'signature'> | Verdict): Uint8Array {
  const { signature: _, ...body } = v as Verdict;
  return signed(VERDICT_DOMAIN, body);
}

export function signVote(
  question: string,
  signer: Signer,
  v: { readonly model: string; readonly vote: VoteChoice; readonly reason?: string },
): Vote {
  if (!['agree', 'disagree', 'abstain'].includes(v.vote))
    throw new QuorumInputError(
      `a vote is agree, disagree or abstain, not ${JSON.stringify(v.vote)}`,
    );
  const body = {
    question,
    voter: signer.agent,
    model: v.model,
    vote: v.vote,
    reason: v.reason ?? '',
    key_id: fingerprint(signer.publicKey),
  };
  return { ...body, signature: toHex(signer.sign(voteSigningBytes(body))) };
}

/** Why a vote was left out of the count. */
export type VoteRefusal =
  | 'malformed'
  | 'other-question'
  | 'not-invited'
  | 'unknown-voter'
  | 'wrong-key'
  | 'bad-signature'
  | 'same-key'
  | 'same-model';

function voteProblem(
  v: Vote,
  question: string,
  invited: ReadonlySet<string>,
  keys: PacketKeys,
): VoteRefusal | undefined {
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof v.voter !== 'string' ||
    typeof v.model !== 'string' ||
    typeof v.reason !== 'string' ||
    typeof v.key_id !== 'string' ||
    typeof v.signature !== 'string' ||
    !['agree', 'disagree', 'abstain'].includes(v.vote)
  )
    return 'malformed';
  if (v.question !== question) return 'other-question';
  if (!invited.has(v.voter)) return 'not-invited';
  const bound = keys.get(v.voter);
  if (bound === undefined) return 'unknown-voter';
  if (bound.fingerprint !== v.key_id) return 'wrong-key';
  const sig = fromHex(v.signature);
  if (sig === undefined) return 'bad-signature';
  const ok = keys.verify(v.voter, voteSigningBytes(v), sig);
  return ok === 'ok' ? undefined : 'bad-signature';
}

export interface TallyInput {
  readonly question: string;
  readonly tier: TierName;
  /** Who was asked, in order; the chairman (tiers with a veto) is the first. */
  readonly voters: readonly string[];
  /** What came back (in any order; missing voters abstain). */
  readonly votes: readonly Vote[];
}

export interface Tally {
  readonly question: string;
  readonly tier: TierName;
  readonly voters: readonly string[];
  readonly agree: number;
  readonly disagree: number;
  /** Counted abstentions and invited voters with no counted vote (timeouts, refusals). */
  readonly abstain: number;
  /** The voters whose votes counted, sorted. */
  readonly counted: readonly string[];
  /** Votes left out, by position in `votes`, with why. */
  readonly refused: readonly { readonly voter: string; readonly why: VoteRefusal }[];
  readonly passed: boolean;
  readonly reason: 'passed' | 'too-few-agree' | 'ratio' | 'chairman-veto';
}

/**
 * Counts the votes. Votes are considered sorted by (voter, signature), so the outcome does not
 * depend on arrival order; one that shares a key or a model with one already counted is left out.
 * Passes when agree ≥ required, agree × den ≥ num × (agree + disagree), and no chairman veto.
 */
export function tally(i: TallyInput, keys: PacketKeys): Tally {
  const t = tier(i.tier);
  if (!Array.isArray(i.voters) || i.voters.some((v) => typeof v !== 'string'))
    throw new QuorumInputError('voters is a list of agent ids');
  if (new Set(i.voters).size !== i.voters.length)
    throw new QuorumInputError('a voter is invited twice', { tier: t.name });
  if (i.voters.length !== t.voters)
    throw new QuorumInputError(
      `tier ${t.name} asks ${t.voters} verifiers, not ${i.voters.length}`,
      { tier: t.name },
    );
  const invited = new Set(i.voters);
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const order = [...i.votes].sort(
    (a, b) =>
      cmp(String(a?.voter), String(b?.voter)) || cmp(String(a?.signature), String(b?.signature)),
  );
  const keysSeen = new Set<string>();
  const modelsSeen = new Set<string>();
  const votersSeen = new Set<string>();
  const refused: { voter: string; why: VoteRefusal }[] = [];
  let agree = 0;
  let disagree = 0;
  let abstain = 0;
  let chairmanDisagrees = false;
  const counted: string[] = [];
  for (const v of order) {
    let why = voteProblem(v, i.question, invited, keys);
    if (why === undefined && (keysSeen.has(v.key_id) || votersSeen.has(v.voter))) why = 'same-key';
    else if (why === undefined && modelsSeen.has(v.model)) why = 'same-model';
    if (why !== undefined) {
      refused.push({ voter: typeof v?.voter === 'string' ? v.voter : '?', why });
      continue;
    }
    keysSeen.add(v.key_id);
    modelsSeen.add(v.model);
    votersSeen.add(v.voter);
    counted.push(v.voter);
    if (v.vote === 'agree') agree++;
    else if (v.vote === 'disagree') {
      disagree++;
      if (v.voter === i.voters[0]) chairmanDisagrees = true;
    } else abstain++;
  }
  abstain += i.voters.length - counted.length;
  const [num, den] = t.ratio;
  const reason =
    t.chairmanVeto && chairmanDisagrees
      ? 'chairman-veto'
      : agree < t.required
        ? 'too-few-agree'
        : agree * den < num * (agree + disagree)
          ? 'ratio'
          : 'passed';
  return {
    question: i.question,
    tier: t.name,
    voters: [...i.voters],
    agree,
    disagree,
    abstain,
    counted: counted.sort(),
    refused,
    passed: reason === 'passed',
    reason,
  };
}

/** A signed tally: the question, who was asked, every vote received, and the outcome. */
export interface Verdict {
  readonly question: string;
  readonly tier: TierName;
  readonly voters: readonly string[];
  readonly votes: readonly Vote[];
  readonly agree: number;
  readonly disagree: number;
  readonly abstain: number;
  readonly passed: boolean;
  readonly reason: Tally['reason'];
  /** Who tallied and signed. */
  readonly by: string;
  readonly key_id: string;
  readonly signature: string;
}

/** Tallies and signs the verdict as `signer` (the coordinator). */
export function signVerdict(i: TallyInput, signer: Signer, keys: PacketKeys): Verdict {
  const t = tally(i, keys);
  const body = {
    question: t.question,
    tier: t.tier,
    voters: t.voters,
    votes: [...i.votes],
    agree: t.agree,
    disagree: t.disagree,
    abstain: t.abstain,
    passed: t.passed,
    reason: t.reason,
    by: signer.agent,
    key_id: fingerprint(signer.publicKey),
  };
  return { ...body, signature: toHex(signer.sign(verdictSigningBytes(body))) };
}

/**
 * Checks a verdict with the trust store alone: its signer's key and signature, then the tally
 * recomputed from its own votes. Throws VerdictRefusedError saying which does not hold.
 */
export function checkVerdict(v: Verdict, keys: PacketKeys): Tally {
  const bound = keys.get(v?.by);
  if (bound === undefined)
    throw new VerdictRefusedError(
      `the verdict's signer ${JSON.stringify(v?.by)} is not in the trust store`,
      {
        reason: 'unknown-signer',
      },
    );
  if (bound.fingerprint !== v.key_id)
    throw new VerdictRefusedError(`the verdict is signed with a key not bound to ${v.by}`, {
      reason: 'wrong-key',
    });
  const sig = typeof v.signature === 'string' ? fromHex(v.signature) : undefined;
  if (sig === undefined || keys.verify(v.by, verdictSigningBytes(v), sig) !== 'ok')
    throw new VerdictRefusedError('the verdict signature does not match', {
      reason: 'bad-signature',
    });
  const t = tally({ question: v.question, tier: v.tier, voters: v.voters, votes: v.votes }, keys);
  for (const k of ['agree', 'disagree', 'abstain', 'passed', 'reason'] as const)
    if (t[k] !== v[k])
      throw new VerdictRefusedError(
        `the verdict says ${k} = ${String(v[k])}, its votes give ${String(t[k])}`,
        { reason: 'tally', field: k },
      );
  return t;
}
