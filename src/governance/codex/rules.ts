/**
 * The admission checks of the 9 Codex (RFC §5.1) and the security levels (RFC §5.2), one
 * interceptor each, in the order the pipeline runs them: the signature first (rule 2), then expiry
 * (8), inputs (6), security settings (1), least privilege (9), the level, resource limits (3).
 * Rules 4 (audit), 5 (redaction) and 7 (graceful failure) act around execution (pipeline.ts).
 */

import { type CborValue, encode } from '../../codec/index.js';
import type { AgentRole } from '../../identity/index.js';
import {
  type Json,
  type JsonMap,
  type PacketKeys,
  type PacketVerdict,
  parseRfc3339,
  validatePacket,
} from '../../jitna/index.js';
import { checkIntent } from '../intent.js';
import { isSecurityLevel, type SecurityLevel } from '../levels.js';
import { approvalProblem } from './approval.js';
import type { CodexContext, CodexRule, Executor, Limits } from './types.js';

/** What a packet asks for, read once: from the negotiated terms, else the packet's payload. */
export interface Request {
  readonly terms: JsonMap;
  readonly action: string | undefined;
  readonly paths: readonly unknown[];
  readonly ops: readonly unknown[];
  readonly constraints: JsonMap;
}

function isMap(x: unknown): x is JsonMap {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/**
 * The request in a packet: its negotiation's terms, else its payload. With `agreed`, the terms
 * the negotiation granted instead (what execution runs), when there are any.
 */
export function requestOf(ctx: CodexContext, agreed = false): Request {
  const p = ctx.packet.payload;
  const neg = isMap(p.negotiation) ? p.negotiation : undefined;
  const own = neg !== undefined && isMap(neg.terms) ? neg.terms : p;
  const terms = agreed && ctx.granted !== undefined ? ctx.granted : own;
  const list = (x: Json | undefined): readonly unknown[] =>
    x === undefined ? [] : Array.isArray(x) ? x : [x];
  const constraints = isMap(terms.constraints)
    ? terms.constraints
    : isMap(p.constraints)
      ? p.constraints
      : {};
  return {
    terms,
    action: typeof terms.action === 'string' ? terms.action : undefined,
    paths: list(terms.paths),
    ops: list(terms.ops),
    constraints,
  };
}

/** What the interceptors read besides the packet. */
export interface CodexEnv {
  readonly executor: Executor;
  readonly keys: PacketKeys;
  readonly limits: Limits;
  /** Verifies a packet nobody verified yet (rule 2). */
  readonly verify: (p: unknown) => PacketVerdict;
  /** The level the executor assigns an action, whatever the packet says (default 1). */
  readonly actionLevels: Readonly<Record<string, SecurityLevel>>;
  /** Who may approve level 5 work (absent: any agent but the source). */
  readonly approvers?: ReadonlySet<string>;
  /** Operations each sender started recently (rule 3's rate), kept by the pipeline. */
  readonly started: Map<string, number[]>;
  readonly now: number;
}

export interface Interceptor {
  readonly rule: CodexRule | 'level';
  readonly name: string;
  /** Why the packet may not pass, or undefined. */
  check(ctx: CodexContext, req: Request, env: CodexEnv): string | undefined;
}

/** Operations that change who may do what: never run by an agent (rule 1). */
export const SECURITY_OPS: ReadonlySet<string> = new Set([
  'acl.set',
  'agent.add',
  'agent.remove',
  'session.login',
  'limits.set',
]);

/** Actions that change security settings (rule 1). */
export const SECURITY_ACTIONS: ReadonlySet<string> = new Set([
  'configure-security',
  'change-acl',
  'grant',
  'revoke',
  'add-key',
  'remove-key',
  'disable-auth',
  'chmod',
  'chown',
  'sudo',
]);

/** Files that hold security settings or secrets (rule 1; Delentia's write-path blocklist, and ours). */
const PROTECTED_PATH =
  /(^|\/)(\.jit\/|keys\/|acl\.json$|limits\.json$|trust\.json$|\.env(\.|$)|credentials\.json$|vault_master\.key$|id_(rsa|ed25519)(\.pub)?$|[^/]*\.key$|[^/]*_secret[^/]*$|\.ssh\/|\.gnupg\/)/;

/** The highest level each role may work at, whatever its card says (rule 9). */
export const ROLE_MAX_LEVEL: Readonly<Record<AgentRole, SecurityLevel>> = {
  restricted: 2,
  agent: 5,
  admin: 5,
  kernel: 5,
};

const CONSTRAINT_KEYS: Readonly<Record<string, (v: Json) => boolean>> = {
  security_level: (v) => isSecurityLevel(v),
  max_time_ms: (v) => Number.isInteger(v) && (v as number) > 0,
  max_memory_mb: (v) => Number.isInteger(v) && (v as number) > 0,
  max_payload_bytes: (v) => Number.isInteger(v) && (v as number) > 0,
  rate_per_minute: (v) => Number.isInteger(v) && (v as number) > 0,
};

/** The level of a request: the higher of what the packet says and what the executor assigns its action. */
export function levelOf(req: Request, env: CodexEnv): SecurityLevel {
  const stated = isSecurityLevel(req.constraints.security_level)
    ? req.constraints.security_level
    : 1;
  const own = req.action !== undefined ? (env.actionLevels[req.action] ?? 1) : 1;
  return Math.max(stated, own) as SecurityLevel;
}

/** The effective limits: the executor's, tightened by the packet's constraints. */
export function limitsOf(req: Request, env: CodexEnv): Limits {
  const c = req.constraints;
  const min = (mine: number, theirs: Json | undefined): number =>
    typeof theirs === 'number' && theirs > 0 ? Math.min(mine, theirs) : mine;
  return {
    timeMs: min(env.limits.timeMs, c.max_time_ms),
    memoryMb: min(env.limits.memoryMb, c.max_memory_mb),
    payloadBytes: min(env.limits.payloadBytes, c.max_payload_bytes),
    ratePerMinute: min(env.limits.ratePerMinute, c.rate_per_minute),
  };
}

export const SIGNATURE_FIRST: Interceptor = {
  rule: 2,
  name: 'signature-first',
  check(ctx, _req, env) {
    const v = ctx.verdict ?? env.verify(ctx.packet);
    if (!v.ok) return `the packet's signature check failed (${v.reason}): ${v.detail}`;
    if (v.packet.packet_id !== ctx.packet.packet_id || v.packet.signature !== ctx.packet.signature)
      return 'the signature check given is for another packet';
    return undefined;
  },
};

export const EXPIRY: Interceptor = {
  rule: 8,
  name: 'expiry',
  check(ctx, _req, env) {
    const exp = parseRfc3339(ctx.packet.expires_at ?? '');
    if (exp === undefined) return 'the command carries no expires_at';
    if (exp.ms <= env.now) return `the command expired at ${ctx.packet.expires_at}`;
    return undefined;
  },
};

export const VALIDATE_INPUTS: Interceptor = {
  rule: 6,
  name: 'validate-inputs',
  check(ctx, req, env) {
    const v = validatePacket(ctx.packet, { now: env.now });
    if (!v.is_valid) return v.errors.map((e) => e.message).join('; ');
    if (req.action === undefined || req.action === '')
      return 'the request names no action (terms.action)';
    if (req.paths.some((x) => typeof x !== 'string')) return 'terms.paths must be strings';
    if (req.ops.some((x) => typeof x !== 'string')) return 'terms.ops must be strings';
    for (const [k, x] of Object.entries(req.constraints)) {
      const ok = CONSTRAINT_KEYS[k];
      if (ok === undefined)
        return `unknown constraint ${JSON.stringify(k)} (known: ${Object.keys(CONSTRAINT_KEYS).join(', ')})`;
      if (!ok(x)) return `constraint ${k} = ${JSON.stringify(x)} is not valid`;
    }
    const intent = ctx.packet.payload.jitna;
    if (intent !== undefined) {
      const problems = checkIntent(intent);
      if (problems.length > 0)
        return `the intent is not valid: ${problems.map((p) => p.message).join('; ')}`;
    }
    return undefined;
  },
};

export const NO_SECURITY_CHANGES: Interceptor = {
  rule: 1,
  name: 'no-security-changes',
  check(_ctx, req) {
    if (req.action !== undefined && SECURITY_ACTIONS.has(req.action))
      return `${req.action} changes security settings`;
    const op = req.ops.find((o) => SECURITY_OPS.has(o as string));
    if (op !== undefined) return `${String(op)} changes who may do what`;
    const path = req.paths.find((p) => PROTECTED_PATH.test(p as string));
    if (path !== undefined) return `${String(path)} holds security settings or secrets`;
    return undefined;
  },
};

export const LEAST_PRIVILEGE: Interceptor = {
  rule: 9,
  name: 'least-privilege',
  check(ctx, req, env) {
    const a = req.action!;
    if (!env.executor.actions.includes(a))
      return `${env.executor.id} does not offer ${a} (it offers ${env.executor.actions.join(', ') || 'nothing'})`;
    const granted = ctx.granted?.action;
    if (ctx.granted !== undefined && granted !== a)
      return `the negotiation granted ${String(granted)}, not ${a}`;
    return undefined;
  },
};

export const SECURITY_LEVEL: Interceptor = {
  rule: 'level',
  name: 'security-level',
  check(ctx, req, env) {
    const level = levelOf(req, env);
    const cap = Math.min(env.executor.securityLevel, ROLE_MAX_LEVEL[env.executor.role]);
    if (level > cap)
      return `level ${level} work, above what ${env.executor.id} may do (${cap}, ${env.executor.role})`;
    if (level === 5) return approvalProblem(ctx.packet, env.keys, env.approvers);
    return undefined;
  },
};

export const RESOURCE_LIMITS: Interceptor = {
  rule: 3,
  name: 'resource-limits',
  check(ctx, req, env) {
    const l = limitsOf(req, env);
    const bytes = encode(ctx.packet.payload as unknown as CborValue).length;
    if (bytes > l.payloadBytes)
      return `a payload of ${bytes} bytes is over the limit of ${l.payloadBytes}`;
    const who = ctx.packet.source_agent_id;
    const recent = (env.started.get(who) ?? []).filter((t) => t > env.now - 60_000);
    if (recent.length >= l.ratePerMinute)
      return `${who} started ${recent.length} operations in the last minute (limit ${l.ratePerMinute})`;
    recent.push(env.now);
    env.started.set(who, recent);
    return undefined;
  },
};

/** The admission interceptors, in order. */
export const ADMISSION: readonly Interceptor[] = [
  SIGNATURE_FIRST,
  EXPIRY,
  VALIDATE_INPUTS,
  NO_SECURITY_CHANGES,
  LEAST_PRIVILEGE,
  SECURITY_LEVEL,
  RESOURCE_LIMITS,
];

export { PROTECTED_PATH };
