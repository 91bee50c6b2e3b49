/**
 * The 9 Codex as one pipeline every packet passes before execution (`Codex.admit`), and the frame
 * execution runs in (`Codex.execute`): rule 4 logs every decision and outcome to the audit trail
 * (before execution, and failing closed, for level ≥ 4), rule 3 bounds time and memory, rule 7
 * turns every failure into a FAIL with a reason, rule 5 redacts results and logs, rule 8 refuses
 * a command that expired while it waited.
 */
import { debuglog } from 'node:util';
import { type JsonMap, type PacketKeys, PacketVerifier } from '../../jitna/index.js';
import type { AuditEvent } from '../../kernel/index.js';
import type { SecurityLevel } from '../levels.js';
import { redact } from './redact.js';
import {
  ADMISSION,
  type CodexEnv,
  EXPIRY,
  type Interceptor,
  LEAST_PRIVILEGE,
  levelOf,
  limitsOf,
  requestOf,
  SECURITY_LEVEL,
} from './rules.js';
import {
  type AuditSink,
  CODEX_RULES,
  type CodexContext,
  type CodexRefusal,
  type Executor,
  type Limits,
} from './types.js';

const debug = debuglog('jit:codex');

/** The executor's own maxima when none are given. */
export const DEFAULT_LIMITS: Limits = {
  timeMs: 60_000,
  memoryMb: 512,
  payloadBytes: 1024 * 1024,
  ratePerMinute: 600,
};

export interface CodexOptions {
  readonly executor: Executor;
  /** The trust store (signatures, approvals). */
  readonly keys: PacketKeys;
  /** Where every decision and outcome is logged (rule 4): the kernel's audit trail, for one. */
  readonly audit: AuditSink;
  readonly limits?: Partial<Limits>;
  readonly actionLevels?: Readonly<Record<string, SecurityLevel>>;
  readonly approvers?: Iterable<string>;
  /** The clock (ms), default Date.now. */
  readonly now?: () => number;
  /** How often memory is sampled during a run (ms, default 20). */
  readonly memorySampleMs?: number;
}

export type CodexOutcome =
  | { readonly ok: true; readonly result: JsonMap }
  | { readonly ok: false; readonly reason: string; readonly refusal?: CodexRefusal };

/** The work, given the agreed terms and a signal that aborts at the time limit. */
export type Work = (
  terms: JsonMap,
  o: { readonly signal: AbortSignal },
) => Promise<JsonMap> | JsonMap;

/** A refusal in words: `codex rule 8 (expiry): …`, `codex security level (security-level): …`. */
export function describeRefusal(r: CodexRefusal): string {
  return `codex ${r.rule === 'level' ? 'security level' : `rule ${r.rule}`} (${r.name}): ${r.reason}`;
}

export class Codex {
  private readonly o: CodexOptions;
  private readonly limits: Limits;
  private readonly verifier: PacketVerifier;
  private readonly approvers: ReadonlySet<string> | undefined;
  private readonly started = new Map<string, number[]>();
  /** Log appends that failed after the fact (the decision stood; the failure is counted). */
  auditFailures = 0;
  /** Admission entries still being written (`admit` does not wait for them). */
  private readonly writing = new Set<Promise<void>>();

  constructor(o: CodexOptions) {
    if (typeof o.audit?.append !== 'function')
      throw new TypeError('a codex logs every operation (rule 4): give it an audit sink');
    this.o = o;
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.verifier = new PacketVerifier({
      keys: o.keys,
      audience: o.executor.id,
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
    this.approvers = o.approvers === undefined ? undefined : new Set(o.approvers);
  }

  private env(): CodexEnv {
    return {
      executor: this.o.executor,
      keys: this.o.keys,
      limits: this.limits,
      verify: (p) => this.verifier.verify(p),
      actionLevels: this.o.actionLevels ?? {},
      ...(this.approvers !== undefined ? { approvers: this.approvers } : {}),
      started: this.started,
      now: (this.o.now ?? Date.now)(),
    };
  }

  private refuse(i: Interceptor, reason: string): CodexRefusal {
    return {
      rule: i.rule,
      name: i.rule === 'level' ? i.name : CODEX_RULES[i.rule],
      reason,
    };
  }

  /**
   * Runs the admission interceptors in order and returns the first refusal, or undefined; logs
   * the decision (rule 4, not awaited: `execute` awaits its own entry).
   */
  admit(ctx: CodexContext): CodexRefusal | undefined {
    const env = this.env();
    const req = requestOf(ctx);
    let refusal: CodexRefusal | undefined;
    for (const i of ADMISSION) {
      let why: string | undefined;
      try {
        why = i.check(ctx, req, env);
      } catch (e) {
        why = `the check failed: ${(e as Error).message}`;
      }
      if (why !== undefined) {
        refusal = this.refuse(i, why);
        break;
      }
    }
    const w: Promise<void> = this.log({
      type: 'jitna.codex',
      decision: refusal === undefined ? 'admitted' : 'refused',
      ...this.facts(ctx, req.action),
      ...(refusal !== undefined ? { refusal: refusal as unknown as JsonMap } : {}),
    })
      .catch(() => undefined)
      .then(() => {
        this.writing.delete(w);
      });
    this.writing.add(w);
    return refusal;
  }

  /** Resolves once every admission entry `admit` has started is written (or has failed). */
  async logged(): Promise<void> {
    await Promise.all([...this.writing]);
  }

  /**
   * Executes admitted work within its limits and returns how it ended, never throwing (rule 7).
   * Level ≥ 4: the audit entry is written before the work starts, and without it the work does
   * not start. The result is redacted (rule 5) and the outcome logged (rule 4).
   */
  async execute(
    ctx: CodexContext,
    work: Work,
    o: { signal?: AbortSignal } = {},
  ): Promise<CodexOutcome> {
    const env = this.env();
    const req = requestOf(ctx, true);
    const facts = this.facts(ctx, req.action);
    // what may have changed since admission: the time, and the terms a negotiation agreed
    for (const i of [EXPIRY, LEAST_PRIVILEGE, SECURITY_LEVEL]) {
      const why = i.check(ctx, req, env);
      if (why === undefined) continue;
      const refusal = this.refuse(i, why);
      await this.log({
        type: 'jitna.codex',
        decision: 'refused',
        ...facts,
        refusal: refusal as unknown as JsonMap,
      }).catch(() => undefined);
      return { ok: false, reason: describeRefusal(refusal), refusal };
    }
    const level = levelOf(req, env);
    if (level >= 4) {
      try {
        await this.o.audit.append(
          redact({ type: 'jitna.codex', decision: 'executing', ...facts, level }) as AuditEvent,
          o,
        );
      } catch (e) {
        const refusal: CodexRefusal = {
          rule: 4,
          name: CODEX_RULES[4],
          reason: `level ${level} work needs its audit entry first, and it could not be written: ${(e as Error).message}`,
        };
        return { ok: false, reason: `codex rule 4 (audit-everything): ${refusal.reason}`, refusal };
      }
    }
    const limits = limitsOf(req, env);
    const out = await this.bounded(work, req.terms, limits, o.signal);
    const outcome: CodexOutcome = out.ok
      ? { ok: true, result: redact(out.result) }
      : { ok: false, reason: redact(out.reason) };
    await this.log({
      type: 'jitna.codex',
      decision: outcome.ok ? 'completed' : 'failed',
      ...facts,
      level,
      ...(outcome.ok ? {} : { reason: outcome.reason }),
    }).catch(() => undefined);
    return outcome;
  }

  /** Runs `work` with the time limit (aborting its signal) and the memory limit (sampled heap growth). */
  private async bounded(
    work: Work,
    terms: JsonMap,
    l: Limits,
    outer: AbortSignal | undefined,
  ): Promise<{ ok: true; result: JsonMap } | { ok: false; reason: string }> {
    const ac = new AbortController();
    const stop = (why: string): void => {
      if (!ac.signal.aborted) ac.abort(new Error(why));
    };
    const onOuter = (): void => stop('cancelled');
    outer?.addEventListener('abort', onOuter, { once: true });
    const heap0 = process.memoryUsage().heapUsed;
    const limitBytes = l.memoryMb * 1024 * 1024;
    let over: string | undefined;
    const sampler = setInterval(() => {
      const grown = process.memoryUsage().heapUsed - heap0;
      if (grown > limitBytes) {
        over = `codex rule 3 (resource-limits): the work grew the heap by ${Math.round(grown / 1048576)} MiB, over ${l.memoryMb} MiB`;
        stop(over);
      }
    }, this.o.memorySampleMs ?? 20);
    const timer = setTimeout(
      () => stop(`codex rule 3 (resource-limits): the work ran past ${l.timeMs} ms`),
      l.timeMs,
    );
    const aborted = new Promise<never>((_, reject) => {
      ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
    });
    try {
      const result = await Promise.race([
        (async () => work(terms, { signal: ac.signal }))(),
        aborted,
      ]);
      const grown = process.memoryUsage().heapUsed - heap0;
      if (over === undefined && grown > limitBytes)
        over = `codex rule 3 (resource-limits): the work grew the heap by ${Math.round(grown / 1048576)} MiB, over ${l.memoryMb} MiB`;
      if (over !== undefined) return { ok: false, reason: over };
      if (result === null || typeof result !== 'object' || Array.isArray(result))
        return {
          ok: false,
          reason: 'codex rule 7 (graceful-failure): the work returned no result map',
        };
      return { ok: true, result };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return { ok: false, reason: msg.startsWith('codex rule') ? msg : `the work failed: ${msg}` };
    } finally {
      clearInterval(sampler);
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
      stop('done');
    }
  }

  private facts(ctx: CodexContext, action: string | undefined): JsonMap {
    return {
      packet: ctx.packet.packet_id,
      from: ctx.packet.source_agent_id,
      executor: this.o.executor.id,
      action: action ?? null,
      ...(ctx.packet.correlation_id !== undefined
        ? { conversation: ctx.packet.correlation_id }
        : {}),
    };
  }

  private async log(event: JsonMap): Promise<void> {
    try {
      await this.o.audit.append(redact(event) as AuditEvent);
    } catch (e) {
      this.auditFailures++;
      debug('an audit entry could not be written: %o', e);
      throw e;
    }
  }
}
