/**
 * The 6-field intent language (JITNA Layer 2), carried in a packet as `payload.jitna`. The
 * canonical semantics are rct-platform's `docs/concepts/jitna.md`: I Intent, D Data, Δ Delta,
 * A Approach, R Reflection, M Memory. Other reference sources give the letters other meanings
 * (docs/JITNA.md, "The intent language"); the two with code behind them are offered as explicitly
 * named variants (`variant: 'signedai'`, `variant: 'lora'`), never by reading the same letters
 * differently.
 */
import { createHash } from 'node:crypto';
import { type CborValue, encode, jsonProblem } from '../codec/index.js';
import type { JitnaPacket, Json, JsonMap } from '../jitna/index.js';
import { IntentInvalidError } from './errors.js';

/** The canonical record. Every field is present; an unknown one is refused. */
export interface IntentRecord {
  /** Intent: what is wanted, in one sentence (1–1,000 characters, the reference's gatekeeper limit). */
  readonly I: string;
  /** Data: the facts at hand (paths, ids, measurements). */
  readonly D: JsonMap;
  /** Δ Delta: the gap between the facts and the wanted state. */
  readonly delta: string;
  /** Approach: how the work is to be done. */
  readonly A: string;
  /** Reflection: how the result is to be checked. */
  readonly R: string;
  /** Memory: what earlier work this builds on (intake hashes, snapshot ids, audit entries). */
  readonly M: JsonMap;
}

/** rct-platform `signedai/core/models.py`: I Intent, D Domain, Δ Delta, A Assumptions, R Requirements, M Metrics, all text. */
export interface SignedAiIntent {
  readonly variant: 'signedai';
  readonly I: string;
  readonly D: string;
  readonly delta: string;
  readonly A: string;
  readonly R: string;
  readonly M: string;
}

export const LORA_ROLES = ['router', 'guardian', 'executor', 'scribe'] as const;

/** delentia-mcp `jitna-types.ts` (the LoRA pillar): D a score 0–100, Δ = 100 − D, A a role. */
export interface LoraIntent {
  readonly variant: 'lora';
  /** An action code. */
  readonly I: string;
  readonly D: number;
  readonly delta: number;
  readonly A: (typeof LORA_ROLES)[number];
  /** Rationale. */
  readonly R: string;
  readonly M: JsonMap;
}

export type AnyIntent =
  | ({ readonly variant: 'canonical' } & IntentRecord)
  | SignedAiIntent
  | LoraIntent;

export const MAX_INTENT_CHARS = 1000;
/** Every other text field. */
export const MAX_FIELD_CHARS = 8192;
/** The whole record, canonically encoded. */
export const MAX_INTENT_BYTES = 256 * 1024;

export interface IntentProblem {
  readonly field: string;
  readonly message: string;
}

const FIELDS = ['I', 'D', 'delta', 'A', 'R', 'M'] as const;

function isMap(x: unknown): x is JsonMap {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function text(
  out: IntentProblem[],
  r: Record<string, unknown>,
  field: string,
  max: number,
  required: boolean,
): void {
  const v = r[field];
  if (typeof v !== 'string') out.push({ field, message: `${field} must be a string` });
  else if (required && v.trim() === '') out.push({ field, message: `${field} must not be empty` });
  else if (v.length > max)
    out.push({ field, message: `${field} has ${v.length} characters (at most ${max})` });
}

function map(out: IntentProblem[], r: Record<string, unknown>, field: string): void {
  const v = r[field];
  if (!isMap(v)) out.push({ field, message: `${field} must be a map` });
  else {
    const p = jsonProblem(v, field);
    if (p !== undefined) out.push({ field, message: p });
  }
}

/** `Δ` is read as `delta`; where both are given the canonical `delta` wins (as the packet normalizer). */
function unalias(x: Record<string, unknown>): Record<string, unknown> {
  if (!('Δ' in x)) return x;
  const { Δ: d, ...rest } = x;
  return 'delta' in rest ? rest : { ...rest, delta: d };
}

/** What is wrong with `x` as an intent of any variant (`variant` absent: canonical); empty when nothing. */
export function checkIntent(x: unknown): IntentProblem[] {
  if (!isMap(x)) return [{ field: '', message: 'an intent is a map of I, D, delta, A, R, M' }];
  const r = unalias(x as Record<string, unknown>);
  const variant = r.variant ?? 'canonical';
  const out: IntentProblem[] = [];
  const allowed = new Set<string>([...FIELDS, ...(r.variant !== undefined ? ['variant'] : [])]);
  for (const k of Object.keys(r))
    if (!allowed.has(k)) out.push({ field: k, message: `unknown field ${JSON.stringify(k)}` });
  for (const f of FIELDS) if (!(f in r)) out.push({ field: f, message: `${f} is missing` });
  if (out.length > 0) return out;
  text(out, r, 'I', MAX_INTENT_CHARS, true);
  switch (variant) {
    case 'canonical':
      map(out, r, 'D');
      text(out, r, 'delta', MAX_FIELD_CHARS, false);
      text(out, r, 'A', MAX_FIELD_CHARS, false);
      text(out, r, 'R', MAX_FIELD_CHARS, false);
      map(out, r, 'M');
      break;
    case 'signedai':
      for (const f of ['D', 'delta', 'A', 'R', 'M']) text(out, r, f, MAX_FIELD_CHARS, false);
      break;
    case 'lora': {
      const d = r.D;
      if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 100)
        out.push({ field: 'D', message: 'D (lora) is a score from 0 to 100' });
      else if (r.delta !== 100 - d)
        out.push({ field: 'delta', message: `delta (lora) must be 100 − D = ${100 - d}` });
      if (!(LORA_ROLES as readonly unknown[]).includes(r.A))
        out.push({ field: 'A', message: `A (lora) is one of ${LORA_ROLES.join(', ')}` });
      text(out, r, 'R', MAX_FIELD_CHARS, false);
      map(out, r, 'M');
      break;
    }
    default:
      out.push({
        field: 'variant',
        message: `variant ${JSON.stringify(variant)} is not canonical, signedai or lora`,
      });
  }
  if (out.length === 0) {
    const n = encode(r as unknown as CborValue).length;
    if (n > MAX_INTENT_BYTES)
      out.push({
        field: '',
        message: `the record encodes to ${n} bytes (at most ${MAX_INTENT_BYTES})`,
      });
  }
  return out;
}

/** `x` as an intent, `Δ` read as `delta`; throws IntentInvalidError listing every problem. */
export function readIntent(x: unknown): AnyIntent {
  const problems = checkIntent(x);
  if (problems.length > 0)
    throw new IntentInvalidError(
      `not a valid intent: ${problems.map((p) => p.message).join('; ')}`,
      { problems: problems.map((p) => p.field || '(record)').join(',') },
    );
  const r = unalias(x as Record<string, unknown>);
  return (r.variant === undefined ? { variant: 'canonical', ...r } : r) as unknown as AnyIntent;
}

/** As `readIntent`, for the canonical record only. */
export function readCanonicalIntent(x: unknown): IntentRecord {
  const a = readIntent(x);
  if (a.variant !== 'canonical')
    throw new IntentInvalidError(
      `a ${a.variant} intent where the canonical record (Intent, Data, Delta, Approach, Reflection, Memory) is needed`,
      { problems: 'variant' },
    );
  const { variant: _, ...rec } = a;
  return rec;
}

const DIGEST_DOMAIN = 'jitna.intent.v1\u0000';

/** The record as carried: the canonical one without `variant`, a variant with it. */
function wireForm(i: AnyIntent | IntentRecord): Record<string, unknown> {
  const { variant, ...rest } = i as AnyIntent;
  return variant === 'canonical' || variant === undefined ? rest : { variant, ...rest };
}

/**
 * SHA-256 (hex) of `"jitna.intent.v1\0"` and the canonical CBOR of the record, every field at
 * every depth (the reference's `.jitna` checksum dropped the contents of M).
 */
export function intentDigest(i: AnyIntent | IntentRecord): string {
  return createHash('sha256')
    .update(DIGEST_DOMAIN)
    .update(encode(wireForm(i) as unknown as CborValue))
    .digest('hex');
}

/** The packet payload that carries an intent: `{jitna: {...}}` (the canonical record without `variant`). */
export function intentPayload(i: AnyIntent | IntentRecord): JsonMap {
  return { jitna: wireForm(i) as unknown as Json };
}

/** The intent a packet carries in `payload.jitna`; throws IntentInvalidError when it carries none or a bad one. */
export function intentOf(p: JitnaPacket): AnyIntent {
  if (!('jitna' in p.payload))
    throw new IntentInvalidError('the packet carries no intent (payload.jitna)', {
      problems: 'jitna',
    });
  return readIntent(p.payload.jitna);
}
