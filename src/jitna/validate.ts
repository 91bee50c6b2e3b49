import { type CborValue, encode, isPlainMap, jsonProblem } from '../codec/index.js';
import {
  BROADCAST,
  FIELDS,
  MAX_METADATA_BYTES,
  MAX_PAYLOAD_BYTES,
  MESSAGE_TYPES,
  SCHEMA_VERSIONS,
  STATUSES,
  V2_MESSAGE_TYPES,
  V3_FIELDS,
} from './packet.js';
import { parseRfc3339 } from './time.js';

/**
 * Stable codes of what the validator finds (docs/JITNA.md lists each). Errors make a packet
 * invalid; warnings (`empty_payload`, `no_correlation`, `unknown_field`, `ttl_zero`,
 * `no_expiry`) do not.
 */
export type IssueCode =
  | 'not_a_packet'
  | 'required'
  | 'type'
  | 'schema_version'
  | 'message_type'
  | 'status'
  | 'priority'
  | 'uuid'
  | 'agent_id'
  | 'self_addressed'
  | 'timestamp'
  | 'timestamp_skew'
  | 'expires_at'
  | 'expired'
  | 'payload'
  | 'payload_size'
  | 'metadata'
  | 'metadata_size'
  | 'ttl'
  | 'hop_trace'
  | 'v3_field'
  | 'nonce'
  | 'seq'
  | 'key_id'
  | 'signature'
  | 'signature_fields'
  | 'compressed'
  | 'empty_payload'
  | 'no_correlation'
  | 'unknown_field'
  | 'ttl_zero'
  | 'no_expiry';

export interface Issue {
  readonly code: IssueCode;
  /** The field it is about ('' for the packet as a whole). */
  readonly field: string;
  /** In words; the reference implementation's own words where its check is the same. */
  readonly message: string;
}

/** As the reference's `JITNAValidationResult`, with a code and a field on each finding. */
export interface ValidationResult {
  readonly is_valid: boolean;
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
}

export interface ValidateOptions {
  /** The time to check `timestamp` and `expires_at` against (ms); default `Date.now()`. */
  readonly now?: number;
  /** How far `timestamp` may be ahead of `now` (clock skew), default 5 min. */
  readonly maxSkewMs?: number;
  /**
   * The length of the packet's canonical encoding, when the caller has it (the verifier does):
   * at most 64 KiB, payload and metadata are under their caps without being encoded again.
   */
  readonly encodedBytes?: number;
}

/** What the validator read on the way: the packet's times (ms), where well-formed. */
export interface Readings {
  timestamp?: number;
  expires?: number;
}

const KNOWN: ReadonlySet<string> = new Set(FIELDS);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HEX = /^[0-9a-f]*$/;
const MAX_ID = 128;
const MAX_HOPS = 64;
const MAX_TTL = 255;
const DEFAULT_SKEW_MS = 300_000;

/** Python's `repr` of a list of strings, for the reference's message_type message. */
function pyList(xs: readonly string[]): string {
  return `[${xs.map((x) => `'${x}'`).join(', ')}]`;
}

/** How a value reads in a message (Python's spelling for the reference's messages). */
function shown(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : typeof v;
}

function agentIdProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return `is ${shown(v)}, not a string`;
  if (v.length > MAX_ID) return `is longer than ${MAX_ID} characters`;
  if (v.trim() !== v) return 'has spaces around it';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'holds a control character';
  return undefined;
}

/**
 * Checks a packet (canonical field names; `normalize` first for anything looser) and never
 * throws. Everything the reference validator checks, in its words where the case is the same
 * (required fields, schema version, message type, priority range, payload size, the two
 * warnings), and what it did not: timestamp format, UTC and skew, expiry, UUID form, payload and
 * metadata size on the canonical CBOR bytes, integer (not boolean) priority, source ≠ target,
 * `ttl`, `hop_trace`, the status set, the form of `nonce`, `seq`, `key_id` and `signature`, and
 * that a signed packet carries `key_id`, `nonce` and `expires_at`.
 */
export function validatePacket(p: unknown, opts: ValidateOptions = {}): ValidationResult {
  return validateReading(p, opts, {});
}

/** @internal `validatePacket`, leaving what it read in `read`. */
export function validateReading(
  p: unknown,
  opts: ValidateOptions,
  read: Readings,
): ValidationResult {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const err = (code: IssueCode, field: string, message: string): void =>
    void errors.push({ code, field, message });
  const warn = (code: IssueCode, field: string, message: string): void =>
    void warnings.push({ code, field, message });
  if (!isPlainMap(p)) {
    err('not_a_packet', '', `a packet is a map of fields, not ${shown(p)}`);
    return { is_valid: false, errors, warnings };
  }
  const now = opts.now ?? Date.now();

  // the reference's required fields, in its words
  for (const f of ['packet_id', 'source_agent_id', 'target_agent_id', 'message_type'] as const) {
    const v = p[f];
    if (v === undefined || v === null || v === '' || (typeof v === 'string' && v.trim() === ''))
      err('required', f, `Required field '${f}' is empty or missing`);
  }
  for (const f of ['payload', 'timestamp', 'schema_version', 'priority', 'metadata', 'status'])
    if (p[f] === undefined || p[f] === null)
      err('required', f, `Required field '${f}' is empty or missing`);

  const version = p.schema_version;
  const v2 = version === '2.0';
  if (version !== undefined && version !== null && !SCHEMA_VERSIONS.includes(version as '2.0'))
    err(
      'schema_version',
      'schema_version',
      `Unsupported schema version '${shown(version)}'; expected '2.0' or '3.0'`,
    );

  const types = v2 ? V2_MESSAGE_TYPES : MESSAGE_TYPES;
  const mt = p.message_type;
  if (typeof mt === 'string' && mt.trim() !== '' && !(types as readonly string[]).includes(mt))
    err(
      'message_type',
      'message_type',
      `Invalid message_type '${mt}'; must be one of ${pyList(types)}`,
    );
  else if (mt !== undefined && mt !== null && typeof mt !== 'string')
    err(
      'message_type',
      'message_type',
      `message_type is ${shown(mt)}, not one of ${pyList(types)}`,
    );

  const prio = p.priority;
  if (prio !== undefined && prio !== null) {
    if (typeof prio !== 'number' || !Number.isInteger(prio))
      err(
        'priority',
        'priority',
        `Invalid priority ${shown(prio)}; must be an integer 1–5 (1 the highest)`,
      );
    else if (prio < 1 || prio > 5)
      err('priority', 'priority', `Invalid priority ${prio}; must be 1–5`);
  }

  const st = p.status;
  if (st !== undefined && st !== null && !(STATUSES as readonly unknown[]).includes(st))
    err('status', 'status', `Invalid status '${shown(st)}'; must be one of ${pyList(STATUSES)}`);

  const id = p.packet_id;
  if (typeof id === 'string' && id.trim() !== '' && !UUID.test(id))
    err('uuid', 'packet_id', `packet_id '${id}' is not a lowercase UUID`);
  else if (id !== undefined && id !== null && typeof id !== 'string')
    err('uuid', 'packet_id', `packet_id is ${shown(id)}, not a UUID string`);

  for (const f of ['source_agent_id', 'target_agent_id'] as const) {
    const v = p[f];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) continue;
    const why = agentIdProblem(v);
    if (why !== undefined) err('agent_id', f, `${f} ${why}`);
  }
  if (p.source_agent_id === BROADCAST)
    err(
      'agent_id',
      'source_agent_id',
      `"${BROADCAST}" is a target only (every agent), not a sender`,
    );
  if (
    typeof p.source_agent_id === 'string' &&
    p.source_agent_id !== '' &&
    p.source_agent_id === p.target_agent_id
  )
    err(
      'self_addressed',
      'target_agent_id',
      `the packet is addressed to its own sender (${p.source_agent_id})`,
    );

  // time
  let ts: number | undefined;
  if (p.timestamp !== undefined && p.timestamp !== null) {
    const t = typeof p.timestamp === 'string' ? parseRfc3339(p.timestamp) : undefined;
    if (t === undefined)
      err(
        'timestamp',
        'timestamp',
        `timestamp '${shown(p.timestamp)}' is not an RFC 3339 date-time (2026-11-23T10:00:00Z)`,
      );
    else if (!t.utc)
      err(
        'timestamp',
        'timestamp',
        `timestamp '${p.timestamp as string}' is not in UTC (end it with Z)`,
      );
    else {
      ts = t.ms;
      read.timestamp = t.ms;
      const skew = opts.maxSkewMs ?? DEFAULT_SKEW_MS;
      if (t.ms > now + skew)
        err(
          'timestamp_skew',
          'timestamp',
          `timestamp is ${Math.round((t.ms - now) / 1000)} s ahead of this clock (at most ${skew / 1000} s)`,
        );
    }
  }
  if (p.expires_at !== undefined && p.expires_at !== null) {
    const t = typeof p.expires_at === 'string' ? parseRfc3339(p.expires_at) : undefined;
    if (t?.utc === true) read.expires = t.ms;
    if (t === undefined || !t.utc)
      err(
        'expires_at',
        'expires_at',
        `expires_at '${shown(p.expires_at)}' is not an RFC 3339 date-time in UTC`,
      );
    else if (ts !== undefined && t.ms <= ts)
      err('expires_at', 'expires_at', 'expires_at is not after timestamp');
    else if (now >= t.ms)
      err('expired', 'expires_at', `the packet expired at ${p.expires_at as string}`);
  }

  // payload and metadata: JSON values, measured on the canonical encoding
  for (const [f, max, sizeCode] of [
    ['payload', MAX_PAYLOAD_BYTES, 'payload_size'],
    ['metadata', MAX_METADATA_BYTES, 'metadata_size'],
  ] as const) {
    const v = p[f];
    if (v === undefined || v === null) continue;
    if (!isPlainMap(v)) {
      err(f, f, `${f} is ${shown(v)}, not a map`);
      continue;
    }
    const why = jsonProblem(v, f);
    if (why !== undefined) {
      err(f, f, why);
      continue;
    }
    if (opts.encodedBytes !== undefined && opts.encodedBytes <= MAX_METADATA_BYTES) continue;
    const size = encode(v as CborValue).length;
    if (size > max)
      err(
        sizeCode,
        f,
        f === 'payload'
          ? `Payload exceeds maximum size of ${max} bytes`
          : `metadata exceeds maximum size of ${max} bytes`,
      );
  }
  if (isPlainMap(p.payload) && Object.keys(p.payload).length === 0)
    warn('empty_payload', 'payload', 'Packet has empty payload');

  // threading
  for (const f of ['correlation_id', 'in_reply_to'] as const) {
    const v = p[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '' || v.length > MAX_ID)
      err('type', f, `${f} is ${shown(v)}, not a string of 1–${MAX_ID} characters`);
  }
  if (p.correlation_id === undefined || p.correlation_id === null || p.correlation_id === '')
    warn(
      'no_correlation',
      'correlation_id',
      'No correlation_id set; message tracing will be limited',
    );

  if (
    (p.expires_at === undefined || p.expires_at === null) &&
    (p.signature === undefined || p.signature === null)
  )
    warn('no_expiry', 'expires_at', 'No expires_at set; the packet may be acted on at any time');

  // v3
  for (const f of V3_FIELDS)
    if (v2 && p[f] !== undefined && p[f] !== null)
      err('v3_field', f, `${f} is a "3.0" field; a "2.0" packet cannot carry it`);
  if (p.ttl !== undefined && p.ttl !== null) {
    if (typeof p.ttl !== 'number' || !Number.isInteger(p.ttl) || p.ttl < 0 || p.ttl > MAX_TTL)
      err('ttl', 'ttl', `ttl is ${shown(p.ttl)}, not a whole number 0–${MAX_TTL}`);
    else if (p.ttl === 0) warn('ttl_zero', 'ttl', 'ttl is 0: the packet may not take another hop');
  }
  if (p.hop_trace !== undefined && p.hop_trace !== null) {
    const h = p.hop_trace;
    if (!Array.isArray(h) || h.length > MAX_HOPS)
      err('hop_trace', 'hop_trace', `hop_trace is a list of at most ${MAX_HOPS} agent ids`);
    else {
      const seen = new Set<unknown>();
      for (const a of h as unknown[]) {
        const why = agentIdProblem(a);
        if (why !== undefined) err('hop_trace', 'hop_trace', `a hop ${why}`);
        else if (seen.has(a))
          err('hop_trace', 'hop_trace', `${a as string} is in hop_trace twice (a loop)`);
        seen.add(a);
      }
    }
  }
  if (p.compressed !== undefined && p.compressed !== null) {
    if (typeof p.compressed !== 'boolean')
      err('compressed', 'compressed', `compressed is ${shown(p.compressed)}, not true or false`);
    else if (
      p.compressed &&
      isPlainMap(p.payload) &&
      !(Object.keys(p.payload).length === 1 && typeof p.payload.compressed_data === 'string')
    )
      err(
        'compressed',
        'payload',
        "a compressed packet's payload is {compressed_data: <base64>} alone",
      );
  }

  // signing fields
  const hex = (
    f: 'nonce' | 'key_id' | 'signature',
    ok: (s: string) => boolean,
    what: string,
  ): void => {
    const v = p[f];
    if (v === undefined || v === null) return;
    if (typeof v !== 'string' || !HEX.test(v) || !ok(v)) err(f, f, `${f} is not ${what}`);
  };
  hex(
    'nonce',
    (s) => s.length >= 32 && s.length <= 128 && s.length % 2 === 0,
    '32–128 lowercase hex digits (128 random bits or more)',
  );
  hex('key_id', (s) => s.length === 64, '64 lowercase hex digits (a key fingerprint)');
  hex('signature', (s) => s.length === 128, '128 lowercase hex digits (an Ed25519 signature)');
  if (
    p.seq !== undefined &&
    p.seq !== null &&
    !(typeof p.seq === 'number' && Number.isSafeInteger(p.seq) && p.seq >= 0)
  )
    err('seq', 'seq', `seq is ${shown(p.seq)}, not a whole number ≥ 0`);
  if (p.signature !== undefined && p.signature !== null)
    for (const f of ['key_id', 'nonce', 'expires_at'])
      if (p[f] === undefined || p[f] === null)
        err(
          'signature_fields',
          f,
          `a signed packet carries ${f} (it is what makes the signature safe to replay-check)`,
        );

  for (const k of Object.keys(p))
    if (!KNOWN.has(k)) warn('unknown_field', k, `unknown field '${k}' (kept, and signed over)`);

  return { is_valid: errors.length === 0, errors, warnings };
}
