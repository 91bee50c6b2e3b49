/**
 * What a JITNA transaction records in the audit trail, and the replay that re-runs its recorded
 * decisions (the intake hash, the FDIA gate, the quorum verdict, and that the outcome follows from
 * them) to report the first that comes out differently.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Json, JsonMap, PacketKeys } from '../jitna/index.js';
import type { AuditEntry } from '../kernel/index.js';
import { type FdiaDecision, fdia } from './fdia.js';
import { intakeKey } from './intake.js';
import type { IntentRecord } from './intent.js';
import { checkVerdict, type Verdict } from './quorum.js';

/** The event type of a JITNA transaction's record. */
export const TRANSACTION_EVENT = 'jitna.transaction';

export type TransactionOutcome = 'completed' | 'failed' | 'blocked';

/** One transaction's record (every field JSON). */
export interface TransactionEvent {
  readonly type: typeof TRANSACTION_EVENT;
  readonly tx: string;
  readonly outcome: TransactionOutcome;
  readonly intent: IntentRecord;
  readonly context: JsonMap;
  readonly intake_hash: string;
  readonly fdia: FdiaDecision;
  /** The negotiations: who was asked, in order, and how each ended. */
  readonly negotiation?: readonly JsonMap[];
  /** The agents that worked, with the fingerprints of their keys. */
  readonly agents?: readonly { readonly id: string; readonly key_id: string }[];
  readonly sws?: string;
  readonly snapshot?: string;
  /** Where and why it failed. */
  readonly failure?: { readonly step: string; readonly reason: string };
  readonly verdict?: Verdict;
}

export type ReplayedDecision = 'intake' | 'fdia' | 'gate' | 'verdict' | 'outcome';

export interface ReplayReport {
  /** Entries looked at. */
  readonly entries: number;
  /** Transactions whose decisions were re-run. */
  readonly transactions: number;
  /** The first decision that came out differently, if any. */
  readonly divergence?: {
    readonly seq: number;
    readonly tx: string;
    readonly decision: ReplayedDecision;
    readonly recorded: Json;
    readonly replayed: Json;
    readonly detail: string;
  };
}

/**
 * Re-runs the recorded decisions of every transaction in `entries`, in order, and stops at the
 * first divergence. `keys` (the trust store) checks the verdicts' signatures and votes.
 */
export function replayAudit(entries: readonly AuditEntry[], keys: PacketKeys): ReplayReport {
  let transactions = 0;
  for (const e of entries) {
    if (e.event.type !== TRANSACTION_EVENT) continue;
    transactions++;
    const t = e.event as unknown as TransactionEvent;
    const diverge = (
      decision: ReplayedDecision,
      recorded: unknown,
      replayed: unknown,
      detail: string,
    ): ReplayReport => ({
      entries: entries.length,
      transactions,
      divergence: {
        seq: e.seq,
        tx: String(t.tx),
        decision,
        recorded: (recorded ?? null) as Json,
        replayed: (replayed ?? null) as Json,
        detail,
      },
    });
    let hash: string;
    try {
      hash = intakeKey(t.intent, t.context);
    } catch (err) {
      return diverge(
        'intake',
        t.intake_hash,
        null,
        `the intake cannot be hashed: ${(err as Error).message}`,
      );
    }
    if (hash !== t.intake_hash)
      return diverge('intake', t.intake_hash, hash, 'the intent and context hash differently');
    let gate: FdiaDecision;
    try {
      gate = fdia(t.fdia, { threshold: t.fdia.threshold, profile: t.fdia.profile });
    } catch (err) {
      return diverge('fdia', t.fdia as unknown as Json, null, (err as Error).message);
    }
    if (!isDeepStrictEqual(gate, t.fdia))
      return diverge(
        'fdia',
        t.fdia as unknown as Json,
        gate as unknown as Json,
        'the FDIA gate decides differently',
      );
    if (!gate.allowed) {
      if (
        t.outcome !== 'blocked' ||
        t.agents?.length ||
        t.sws !== undefined ||
        t.snapshot !== undefined
      )
        return diverge(
          'gate',
          t.outcome,
          'blocked',
          'the gate blocked the intent, yet work was recorded',
        );
      continue;
    }
    if (t.outcome === 'blocked')
      return diverge('gate', 'blocked', 'allowed', 'recorded as blocked, but the gate allows it');
    if (t.verdict !== undefined) {
      try {
        const tally = checkVerdict(t.verdict, keys);
        if (t.outcome === 'completed' && !tally.passed)
          return diverge('outcome', t.outcome, 'failed', 'completed without a passing verdict');
      } catch (err) {
        return diverge('verdict', t.verdict.passed, null, (err as Error).message);
      }
    } else if (t.outcome === 'completed')
      return diverge('outcome', t.outcome, 'failed', 'completed without a verdict');
    if (t.outcome === 'completed' && t.snapshot === undefined)
      return diverge('outcome', t.outcome, 'failed', 'completed without a snapshot');
  }
  return { entries: entries.length, transactions };
}
