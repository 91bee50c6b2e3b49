/**
 * Security levels 1–5 (RFC §5.2) and task risk. A packet's `constraints.security_level` and a
 * capability card's `security_level` use these numbers; an agent never runs work above its level.
 */
export const SECURITY_LEVELS = {
  1: 'SAFE',
  2: 'RESTRICTED',
  3: 'MODERATE',
  4: 'ELEVATED',
  5: 'CRITICAL',
} as const;

export type SecurityLevel = keyof typeof SECURITY_LEVELS;

/** What each level allows, as the RFC words it. */
export const SECURITY_LEVEL_MEANING: Readonly<Record<SecurityLevel, string>> = {
  1: 'read-only, no system changes',
  2: 'limited changes, sandboxed',
  3: 'standard operations, monitored',
  4: 'administrative, enhanced logging (signature and audit entry before execution)',
  5: 'system-critical (also an approval signed by a second, different approver)',
};

export function isSecurityLevel(x: unknown): x is SecurityLevel {
  return x === 1 || x === 2 || x === 3 || x === 4 || x === 5;
}

/** How much harm a task can do, which picks its quorum tier (quorum.ts). */
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export function isRiskLevel(x: unknown): x is RiskLevel {
  return typeof x === 'string' && (RISK_LEVELS as readonly string[]).includes(x);
}

/** What a task is judged by when its risk is scored (the reference router's four signs). */
export interface RiskSubject {
  /** The kind of artifact the task produces or changes (`config`, `schema`, `code`, …). */
  readonly artifactType?: string;
  /** The content the task works on or produces. */
  readonly content?: string;
  /** The intent's data and reflection, as text (the reference reads `intent.D + intent.R`). */
  readonly context?: string;
}

const SENSITIVE = /password|secret|token|key|auth|credential|private|encrypt/i;
const CRITICAL_AREA = /production|infra|database|security|critical|payment|blockchain/i;
const DESTRUCTIVE = /exec|deploy|delete|drop|shutdown|migration/i;

/**
 * The reference router's risk score, one point for each sign: a config or schema artifact;
 * sensitive words in the content; a critical area named in the context; a destructive operation
 * named in the content. 0 → low, 1–2 → medium, 3 → high, 4 → critical.
 */
export function scoreRisk(s: RiskSubject): { readonly score: number; readonly risk: RiskLevel } {
  const content = s.content ?? '';
  let score = 0;
  if (s.artifactType === 'config' || s.artifactType === 'schema') score++;
  if (SENSITIVE.test(content)) score++;
  if (CRITICAL_AREA.test(s.context ?? '')) score++;
  if (DESTRUCTIVE.test(content)) score++;
  const risk: RiskLevel =
    score === 0 ? 'low' : score <= 2 ? 'medium' : score === 3 ? 'high' : 'critical';
  return { score, risk };
}

/** The higher of two risks. */
export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return RISK_LEVELS.indexOf(a) >= RISK_LEVELS.indexOf(b) ? a : b;
}
