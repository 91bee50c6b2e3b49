import { createHash } from 'node:crypto';
import { fromHex } from '../codec/index.js';
import { PacketInputError } from './errors.js';
import type { PacketKeys } from './sign.js';

/**
 * The Python reference's signatures (`reference/jitna.md` §4A), verified for interoperability:
 * Ed25519 over the ASCII of `sha256_hex(json.dumps({6 fields}, sort_keys=True))`, the signature
 * in hex. Only those six fields are covered, so a legacy packet's id, priority, correlation,
 * metadata and status can be changed without detection: such a packet is reported as
 * `coverage: 'partial'` with the fields that are covered.
 */
export const LEGACY_FIELDS = [
  'source_agent_id',
  'target_agent_id',
  'message_type',
  'payload',
  'timestamp',
  'schema_version',
] as const;

/** A number the Python side wrote as a float (`1.0`, `1e-05`): JSON.parse would lose that. */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** What `parsePyJson` gives: JSON values, with floats marked. */
export type PyJson =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyJson[]
  | { [k: string]: PyJson };

/** A float as Python's `repr` (and so `json.dumps`) writes it. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // the shortest digits that read back as x, as both languages choose them
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const e = Math.abs(exp);
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
}

/** A string as `json.dumps` writes it by default (`ensure_ascii`: all but space..~ escaped). */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}

/** Python compares strings by code point (JavaScript's `<` by UTF-16 unit). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * `json.dumps(v, sort_keys=True)` with Python's defaults: `", "` and `": "` separators, ASCII
 * escapes, floats in `repr`. A JavaScript number that is not whole is a float; a whole one is an
 * int unless marked `PyFloat` (`parsePyJson` marks what the text wrote as a float).
 */
export function pyJsonDumps(v: PyJson): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return pyJsonString(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  const keys = Object.keys(v).sort(byCodePoint);
  return `{${keys.map((k) => `${pyJsonString(k)}: ${pyJsonDumps(v[k]!)}`).join(', ')}}`;
}

/** Parses JSON text, marking numbers written with a fraction or an exponent as `PyFloat`. */
export function parsePyJson(text: string): PyJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new PacketInputError(`not JSON at offset ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (depth: number): PyJson => {
    if (depth > 256) fail('nested too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, PyJson> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        Object.defineProperty(o, k, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return o;
        } else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const a: PyJson[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return a;
        } else fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const)
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (m === null) return fail('expected a value');
    i += m[0].length;
    const n = Number(m[0]);
    return m[1] !== undefined || m[2] !== undefined ? new PyFloat(n) : n;
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i]!;
      if (c === '"') break;
      if (c === '\\') i++;
      else if (c.charCodeAt(0) < 0x20) fail('a control character in a string');
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('text after the value');
  return v;
}

/** The reference's `compute_hash()`: SHA-256 hex over the six covered fields. */
export function legacyHash(p: Readonly<Record<string, PyJson>>): string {
  const six: Record<string, PyJson> = {};
  for (const f of LEGACY_FIELDS) six[f] = p[f] ?? null;
  return createHash('sha256').update(pyJsonDumps(six), 'utf8').digest('hex');
}

export type LegacyVerdict =
  | {
      readonly ok: true;
      readonly coverage: 'partial';
      /** What the signature covers; nothing else in the packet is protected. */
      readonly covered: readonly string[];
      readonly hash: string;
    }
  | {
      readonly ok: false;
      readonly reason: 'invalid' | 'unsigned' | 'unknown-sender' | 'wrong-key' | 'bad-signature';
      readonly detail: string;
    };

/**
 * Verifies a packet signed by the Python reference (its JSON text, so that its floats read as
 * Python wrote them, or the value). The key is the one the trust store binds to
 * `source_agent_id`; a `metadata.sender_fingerprint` (Delentia's variant) must name it. The
 * packet carries no expiry or nonce, so replay is the caller's to bound (by `hash`, which the
 * signature covers, rather than by the uncovered `packet_id`).
 */
export function verifyLegacyPacket(
  input: string | Record<string, PyJson>,
  keys: PacketKeys,
): LegacyVerdict {
  let p: PyJson;
  try {
    p = typeof input === 'string' ? parsePyJson(input) : input;
  } catch (e) {
    return { ok: false, reason: 'invalid', detail: (e as Error).message };
  }
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof PyFloat)
    return { ok: false, reason: 'invalid', detail: 'a packet is a map of fields' };
  for (const f of LEGACY_FIELDS)
    if (f === 'payload' ? typeof p[f] !== 'object' || p[f] === null : typeof p[f] !== 'string')
      return { ok: false, reason: 'invalid', detail: `${f} is missing or of the wrong type` };
  const sig = p.signature;
  if (sig === undefined || sig === null)
    return { ok: false, reason: 'unsigned', detail: 'no signature' };
  const bytes = typeof sig === 'string' && /^[0-9a-f]{128}$/.test(sig) ? fromHex(sig) : undefined;
  if (bytes === undefined)
    return { ok: false, reason: 'invalid', detail: 'signature is not 128 lowercase hex digits' };
  const source = p.source_agent_id as string;
  const bound = keys.get(source);
  if (bound === undefined)
    return { ok: false, reason: 'unknown-sender', detail: `${source} is not in the trust store` };
  const meta = p.metadata;
  const claimed =
    meta !== null && typeof meta === 'object' && !Array.isArray(meta) && !(meta instanceof PyFloat)
      ? meta.sender_fingerprint
      : undefined;
  if (claimed !== undefined && claimed !== bound.fingerprint)
    return {
      ok: false,
      reason: 'wrong-key',
      detail: `metadata.sender_fingerprint is not ${source}'s key`,
    };
  const hash = legacyHash(p);
  const v = keys.verify(source, new TextEncoder().encode(hash), bytes);
  if (v !== 'ok')
    return {
      ok: false,
      reason: 'bad-signature',
      detail: 'the signature does not match the six covered fields',
    };
  return { ok: true, coverage: 'partial', covered: LEGACY_FIELDS, hash };
}
