/**
 * The FDIA gate, F = D^I × A, as a pure function (docs/JITNA.md, "The FDIA gate"). The reference
 * sources disagree on what the letters mean and on their ranges; we take rct-platform's
 * `docs/concepts/fdia.md`: D the quality of the data (0–1), I the precision of the intent, an
 * exponent (0.5–2), A the approval of the architect, a human or a policy (0–1). A higher I
 * demands better data: 0.8² = 0.64. The `sdk` profile takes the npm SDK's ranges, every input
 * 0–1. A = 0, D ≤ 0 or I ≤ 0 give F = 0 by rule, never by `Math.pow` (where 0⁰ = 1).
 */
import { FdiaRangeError } from './errors.js';

export type FdiaProfile = 'docs' | 'sdk';

export const FDIA_RANGES: Readonly<
  Record<FdiaProfile, Readonly<Record<'D' | 'I' | 'A', readonly [number, number]>>>
> = {
  docs: { D: [0, 1], I: [0.5, 2], A: [0, 1] },
  sdk: { D: [0, 1], I: [0, 1], A: [0, 1] },
};

/**
 * The default threshold, 0.6: rct-platform's governance floor (`docs/concepts/governance.md`). The
 * runtime's 0.5 was meant for risky tools only; the SDK's 0.3 lets D = A = 0.55 through; the CLI's
 * 0.75 blocks a precise intent (I = 2) on data of quality 0.85. At 0.6, data of quality 0.8 passes a
 * precise intent with full approval (0.64), and half approval blocks any intent.
 */
export const DEFAULT_FDIA_THRESHOLD = 0.6;

export interface FdiaInput {
  readonly D: number;
  readonly I: number;
  readonly A: number;
}

/** One gate decision, as recorded in the audit trail. */
export interface FdiaDecision {
  readonly D: number;
  readonly I: number;
  readonly A: number;
  /** F rounded to 9 decimals, so a replay on another engine compares equal. */
  readonly F: number;
  readonly threshold: number;
  readonly allowed: boolean;
  readonly profile: FdiaProfile;
  /** Why F is 0 without the formula (`no-approval`, `no-data`, `no-intent`), when it is. */
  readonly rule?: 'no-approval' | 'no-data' | 'no-intent';
}

export interface FdiaOptions {
  /** Default DEFAULT_FDIA_THRESHOLD. F ≥ threshold is allowed. */
  readonly threshold?: number;
  /** Default `docs`. */
  readonly profile?: FdiaProfile;
}

/**
 * Scores and decides. Throws FdiaRangeError for a value that is not a finite number or lies
 * outside its profile's range, and for a threshold outside [0, 1].
 */
export function fdia(x: FdiaInput, o: FdiaOptions = {}): FdiaDecision {
  const profile = o.profile ?? 'docs';
  const ranges = FDIA_RANGES[profile];
  if (ranges === undefined)
    throw new FdiaRangeError(`FDIA profile ${JSON.stringify(profile)} is not docs or sdk`, {
      field: 'profile',
    });
  const threshold = o.threshold ?? DEFAULT_FDIA_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
    throw new FdiaRangeError(`the FDIA threshold ${threshold} is not in [0, 1]`, {
      field: 'threshold',
    });
  for (const k of ['D', 'I', 'A'] as const) {
    const v = x?.[k];
    const [lo, hi] = ranges[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
      throw new FdiaRangeError(
        `FDIA ${k} = ${String(v)} is outside [${lo}, ${hi}] (profile ${profile})`,
        { field: k },
      );
  }
  const { D, I, A } = x;
  const rule = A === 0 ? 'no-approval' : D <= 0 ? 'no-data' : I <= 0 ? 'no-intent' : undefined;
  const raw = rule !== undefined ? 0 : D ** I * A;
  const F = Math.round(Math.min(1, Math.max(0, raw)) * 1e9) / 1e9;
  return {
    D,
    I,
    A,
    F,
    threshold,
    allowed: F >= threshold,
    profile,
    ...(rule !== undefined ? { rule } : {}),
  };
}
