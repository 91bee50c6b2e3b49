import type { AgentRole } from '../../identity/index.js';
import type { JitnaPacket, JsonMap, PacketVerdict } from '../../jitna/index.js';
import type { AuditEvent } from '../../kernel/index.js';
import type { SecurityLevel } from '../levels.js';

/** The nine rules (RFC §5.1), by number. */
export const CODEX_RULES = {
  1: 'no-security-changes',
  2: 'signature-first',
  3: 'resource-limits',
  4: 'audit-everything',
  5: 'no-sensitive-data',
  6: 'validate-inputs',
  7: 'graceful-failure',
  8: 'expiry',
  9: 'least-privilege',
} as const;

export type CodexRule = keyof typeof CODEX_RULES;

/** Where a packet was stopped: the rule (or `level` for the security levels), and why. */
export interface CodexRefusal {
  readonly rule: CodexRule | 'level';
  readonly name: string;
  readonly reason: string;
}

/** Who is asked to do the work. */
export interface Executor {
  readonly id: string;
  readonly role: AgentRole;
  /** The highest security level it may work at (its capability card's). */
  readonly securityLevel: SecurityLevel;
  /** The actions it offers (its capability card's). */
  readonly actions: readonly string[];
}

/** One packet on its way to execution. */
export interface CodexContext {
  readonly packet: JitnaPacket;
  /** The signature check already made on it (rule 2 takes it; without it the pipeline verifies). */
  readonly verdict?: PacketVerdict;
  /** What the negotiation agreed; absent when no negotiation preceded (a direct request). */
  readonly granted?: JsonMap;
}

/** Resource limits: the agent's maxima, which a packet's `constraints` may only tighten. */
export interface Limits {
  /** Longest run (ms). */
  readonly timeMs: number;
  /** Most heap the run may add (MiB), measured while it runs. */
  readonly memoryMb: number;
  /** Largest payload (bytes, canonical CBOR). */
  readonly payloadBytes: number;
  /** Most operations a sender may start per minute. */
  readonly ratePerMinute: number;
}

/** Where the codex logs (rule 4): the kernel's audit trail over RPC, or any append-only log. */
export interface AuditSink {
  append(event: AuditEvent, o?: { readonly signal?: AbortSignal }): Promise<unknown>;
}
