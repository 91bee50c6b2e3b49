/**
 * Just-in-time assembly (issue 8): `Assembler.assemble(intent)` turns one intent into a working
 * group around one shadow working set and back into one verified snapshot and one audit entry:
 * intake → FDIA gate → discover → open an SWS → negotiate each role (a candidate becomes a member
 * when asked, and leaves when it declines) → the agents work through the SWS topics → quorum
 * verification → collapse → audit. Every failure ends the transaction in a recorded terminal
 * state, with the SWS discarded: nothing half-done reaches a branch.
 */
import { randomUUID } from 'node:crypto';
import type { CborValue } from '../codec/index.js';
import {
  type FdiaDecision,
  type FdiaInput,
  type FdiaOptions,
  fdia,
  Intake,
  type IntentRecord,
  intentDigest,
  type Question,
  questionDigest,
  type RiskLevel,
  type SecurityLevel,
  scoreRisk,
  signVerdict,
  signVote,
  TIER_FOR_RISK,
  TIERS,
  TRANSACTION_EVENT,
  type TransactionEvent,
  type TransactionOutcome,
  type Verdict,
  type Vote,
  type VoteChoice,
} from '../governance/index.js';
import { fingerprint, type Signer } from '../identity/index.js';
import type { JsonMap, PacketKeys } from '../jitna/index.js';
import type { JitnaAgent, Proposal, ProposalAnswer } from './jitna-agent.js';

/** What the coordinator needs from jitd: RPC calls (an `RpcClient`, or a kernel in process). */
export interface KernelCalls {
  call(op: string, payload: CborValue, o?: { signal?: AbortSignal }): Promise<CborValue>;
}

/** One kind of worker the intent needs. */
export interface Role {
  /** The capability action (and the terms' `action`). */
  readonly action: string;
  readonly format?: string;
  readonly minSecurityLevel?: number;
  /** More terms for the worker (the SWS and the intent's digest are added). */
  readonly terms?: JsonMap;
}

export interface AssemblyRequest {
  /** The transaction id (default: a random UUID). */
  readonly tx?: string;
  readonly intent: IntentRecord;
  readonly context: JsonMap;
  /** The gate's inputs. */
  readonly fdia: FdiaInput;
  readonly fdiaOptions?: FdiaOptions;
  readonly roles: readonly Role[];
  /** Picks the quorum tier; default: the risk scored from the intent. */
  readonly risk?: RiskLevel;
  /** The work's security level, put in every worker's constraints (default 2). */
  readonly securityLevel?: SecurityLevel;
  /** The branch to work on (default main). */
  readonly ref?: string;
  /** How long each negotiation, work included, may take (default 60 s). */
  readonly deadlineMs?: number;
  /** How long a verifier has to vote (default 30 s); silence abstains. */
  readonly voteTimeoutMs?: number;
  /** How many agents to try per role, best first (default 3). */
  readonly attempts?: number;
  readonly message?: string;
}

/** How a transaction ended: its audit event, and where the entry is. */
export interface TransactionRecord extends TransactionEvent {
  readonly audit: { readonly seq: number; readonly digest: string };
  /** Answered from the intake cache (the same intent in the same context, done before). */
  readonly cached: boolean;
}

export interface AssemblerOptions {
  /** The coordinator's JITNA agent (discovery and negotiation). */
  readonly jitna: JitnaAgent;
  /** jitd: SWSs, membership, collapse, the audit trail. */
  readonly kernel: KernelCalls;
  /** The trust store (vote and verdict signatures). */
  readonly keys: PacketKeys;
  /** Signs verdicts (the coordinator; its id owns the SWSs). */
  readonly signer: Signer;
  /** Completed transactions by intake hash (default: a cache of 256). */
  readonly intake?: Intake<TransactionRecord>;
}

/** Carries a transaction that did not complete past the intake (which caches only completions). */
class Ended extends Error {
  readonly record: TransactionRecord;
  constructor(record: TransactionRecord) {
    super(record.outcome);
    this.record = record;
  }
}

type Tried = { agent: string; state: string; reason?: string };

export class Assembler {
  private readonly o: AssemblerOptions;
  readonly intake: Intake<TransactionRecord>;

  constructor(o: AssemblerOptions) {
    this.o = o;
    this.intake = o.intake ?? new Intake<TransactionRecord>({ capacity: 256 });
  }

  /**
   * Runs one transaction to its end and returns its record; a completed one is kept by intake
   * hash, so the same intent in the same context is answered from it. Failures are returned,
   * not thrown: `outcome` says how it ended and `failure` where.
   */
  async assemble(r: AssemblyRequest, o: { signal?: AbortSignal } = {}): Promise<TransactionRecord> {
    try {
      const a = await this.intake.process(
        r.intent,
        r.context,
        (hash) => this.run(r, hash, o.signal),
        o,
      );
      return a.cached ? { ...a.result, cached: true } : a.result;
    } catch (e) {
      if (e instanceof Ended) return e.record;
      throw e;
    }
  }

  private async run(
    r: AssemblyRequest,
    hash: string,
    signal?: AbortSignal,
  ): Promise<TransactionRecord> {
    const k = this.o.kernel;
    const me = this.o.jitna.id;
    const tx = r.tx ?? randomUUID();
    const gate: FdiaDecision = fdia(r.fdia, r.fdiaOptions);
    const negotiation: JsonMap[] = [];
    const agents: { id: string; key_id: string }[] = [];
    let sws: string | undefined;
    const members = new Set<string>();
    /** The group dissolves: every member it took in leaves the SWS. */
    const release = async (): Promise<void> => {
      for (const m of [...members].sort()) {
        await k.call('shadow.remove_member', { id: sws!, agent: m }).catch(() => undefined);
        members.delete(m);
      }
    };
    const end = async (
      outcome: TransactionOutcome,
      extra: { snapshot?: string; failure?: { step: string; reason: string }; verdict?: Verdict },
    ): Promise<TransactionRecord> => {
      if (outcome !== 'completed' && sws !== undefined) {
        await release();
        await k.call('shadow.discard', { id: sws, agent: me }).catch(() => undefined);
      }
      const event: TransactionEvent = {
        type: TRANSACTION_EVENT,
        tx,
        outcome,
        intent: r.intent,
        context: r.context,
        intake_hash: hash,
        fdia: gate,
        ...(negotiation.length > 0 ? { negotiation } : {}),
        ...(agents.length > 0 ? { agents } : {}),
        ...(sws !== undefined ? { sws } : {}),
        ...extra,
      };
      const a = (await k.call('audit.append', { event: event as unknown as CborValue })) as {
        seq: number;
        digest: string;
      };
      const record = { ...event, audit: { seq: a.seq, digest: a.digest }, cached: false };
      if (outcome !== 'completed') throw new Ended(record);
      return record;
    };
    const fail = (step: string, reason: string, verdict?: Verdict) =>
      end('failed', { failure: { step, reason }, ...(verdict ? { verdict } : {}) });

    // the gate: a blocked intent starts no work
    if (!gate.allowed)
      return end('blocked', {
        failure: { step: 'fdia', reason: `F = ${gate.F} is below the threshold ${gate.threshold}` },
      });
    // every role must have someone before anything is opened
    for (const role of r.roles)
      if (this.candidates(role).length === 0)
        return fail(
          'discover',
          `no agent offers ${role.action}${role.format ? ` in ${role.format}` : ''}`,
        );
    try {
      signal?.throwIfAborted();
      sws = (
        (await k.call(
          'shadow.create',
          { ref: r.ref ?? 'main', owner: me },
          { ...(signal ? { signal } : {}) },
        )) as {
          id: string;
        }
      ).id;
      // each role negotiated at once; each re-routed to the next candidate on a refusal or silence
      const level = r.securityLevel ?? 2;
      const done = await Promise.all(
        r.roles.map((role) => this.negotiateRole(role, sws!, r, level, negotiation, members)),
      );
      const failed = done.find((d) => d.result === undefined);
      if (failed !== undefined) return fail('negotiate', failed.reason);
      for (const d of done) agents.push(this.keyOf(d.agent!));
      // nothing in the SWS that no finished worker vouches for (a crashed one's partial work)
      const vouched = new Set(
        done.flatMap((d) => (Array.isArray(d.result!.paths) ? d.result!.paths : [])),
      );
      const changes = (
        (await k.call('shadow.diff', { id: sws })) as { changes: { path: string }[] }
      ).changes;
      const stray = changes.map((c) => c.path).filter((p) => !vouched.has(p));
      if (stray.length > 0)
        return fail('work', `changes no finished worker reported: ${stray.slice(0, 5).join(', ')}`);
      // quorum verification
      const risk =
        r.risk ??
        scoreRisk({ content: r.intent.I, context: `${JSON.stringify(r.intent.D)} ${r.intent.R}` })
          .risk;
      const verdict = await this.verify(
        tx,
        sws,
        r,
        risk,
        done.map((d) => d.agent!),
        members,
      );
      if (!verdict.passed)
        return fail('verify', `the quorum did not pass (${verdict.reason})`, verdict);
      // collapse, once the group has left
      await release();
      let snapshot: string;
      try {
        const c = (await k.call('shadow.commit', {
          id: sws,
          agent: me,
          message: r.message ?? `${r.intent.I} (transaction ${tx})`,
        })) as { snapshot: string };
        snapshot = c.snapshot;
      } catch (e) {
        return fail('collapse', (e as Error).message, verdict);
      }
      return end('completed', { snapshot, verdict });
    } catch (e) {
      if (e instanceof Ended) throw e;
      return fail('assembly', (e as Error).message);
    }
  }

  private candidates(role: Role): string[] {
    return this.o.jitna
      .discover({
        action: role.action,
        ...(role.format !== undefined ? { format: role.format } : {}),
        ...(role.minSecurityLevel !== undefined ? { minSecurityLevel: role.minSecurityLevel } : {}),
      })
      .map((c) => c.adapter_id);
  }

  private keyOf(agent: string): { id: string; key_id: string } {
    return { id: agent, key_id: this.o.keys.get(agent)?.fingerprint ?? '' };
  }

  /** One role: ask the candidates in rank order until one completes; each is a member while asked. */
  private async negotiateRole(
    role: Role,
    sws: string,
    r: AssemblyRequest,
    level: SecurityLevel,
    log: JsonMap[],
    members: Set<string>,
  ): Promise<{ agent?: string; result?: JsonMap; reason: string }> {
    const k = this.o.kernel;
    const tried: Tried[] = [];
    const record = (): void => {
      log.push({ role: role.action, tried: tried as unknown as JsonMap[] });
    };
    for (const agent of this.candidates(role).slice(0, r.attempts ?? 3)) {
      await k.call('shadow.add_member', { id: sws, agent });
      members.add(agent);
      const n = await this.o.jitna.proposeTo(agent, {
        action: role.action,
        terms: {
          ...role.terms,
          action: role.action,
          sws,
          intent: intentDigest(r.intent),
          constraints: { security_level: level },
        },
        deadlineMs: r.deadlineMs ?? 60_000,
      });
      tried.push({ agent, state: n.state, ...(n.reason ? { reason: n.reason } : {}) });
      if (n.state === 'completed') {
        record();
        return { agent, result: n.result ?? {}, reason: '' };
      }
      // it leaves the group: no more patches from it
      await k.call('shadow.remove_member', { id: sws, agent }).catch(() => undefined);
      members.delete(agent);
    }
    record();
    const last = tried.at(-1);
    return {
      reason:
        last === undefined
          ? `no agent offers ${role.action}`
          : `no agent completed ${role.action}: ${tried.map((t) => `${t.agent} ${t.state}${t.reason ? ` (${t.reason})` : ''}`).join(', ')}`,
    };
  }

  /** Asks the tier's verifiers the same question at once; silence and refusals abstain. */
  private async verify(
    tx: string,
    sws: string,
    r: AssemblyRequest,
    risk: RiskLevel,
    workers: readonly string[],
    members: Set<string>,
  ): Promise<Verdict> {
    const t = TIERS[TIER_FOR_RISK[risk]];
    const voters = this.o.jitna
      .discover({ action: 'verify' })
      .map((c) => c.adapter_id)
      .filter((a) => !workers.includes(a))
      .slice(0, t.voters);
    // too few verifiers: the seats left are named as absent, and abstain
    const seats = [...voters];
    for (let i = 0; seats.length < t.voters; i++) seats.push(`(absent-${i + 1})`);
    const q: Question = {
      id: tx,
      subject: `sws ${sws}`,
      text: `Does the work meet: ${r.intent.R}`,
    };
    const digest = questionDigest(q);
    const votes = (
      await Promise.all(
        voters.map(async (v): Promise<Vote | undefined> => {
          // a verifier that cannot be let in to read abstains
          try {
            await this.o.kernel.call('shadow.add_member', { id: sws, agent: v });
          } catch {
            return undefined;
          }
          members.add(v);
          const n = await this.o.jitna.proposeTo(v, {
            action: 'verify',
            terms: {
              action: 'verify',
              question: q as unknown as JsonMap,
              question_digest: digest,
              sws,
            },
            deadlineMs: r.voteTimeoutMs ?? 30_000,
          });
          const vote = n.result?.vote as unknown as Vote | undefined;
          return n.state === 'completed' && vote !== undefined ? vote : undefined;
        }),
      )
    ).filter((v): v is Vote => v !== undefined);
    return signVerdict(
      { question: digest, tier: t.name, voters: seats, votes },
      this.o.signer,
      this.o.keys,
    );
  }
}

/**
 * A verifier's answer to the assembler's question: it judges the question (and the SWS it names)
 * and returns its vote, signed with its own key, for the model it runs.
 */
export function verifierAnswer(o: {
  readonly signer: Signer;
  readonly model: string;
  readonly judge: (
    q: Question,
    terms: JsonMap,
  ) => Promise<{ vote: VoteChoice; reason?: string }> | { vote: VoteChoice; reason?: string };
}): (p: Proposal) => ProposalAnswer {
  return () => ({
    accept: true,
    run: async (terms) => {
      const q = terms.question as unknown as Question;
      const digest = questionDigest(q);
      if (terms.question_digest !== digest)
        throw new Error('the question does not match its digest');
      const j = await o.judge(q, terms);
      const vote = signVote(digest, o.signer, {
        model: o.model,
        vote: j.vote,
        ...(j.reason !== undefined ? { reason: j.reason } : {}),
      });
      return { vote: vote as unknown as JsonMap, key: fingerprint(o.signer.publicKey) };
    },
  });
}
