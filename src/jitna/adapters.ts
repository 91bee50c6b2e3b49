import { createHash } from 'node:crypto';
import { createPacket } from './create.js';
import { PacketInputError } from './errors.js';
import { sortedJson } from './forms.js';
import { type PyJson, pyJsonDumps } from './legacy.js';
import type { JitnaPacket, JsonMap } from './packet.js';
import { parseRfc3339 } from './time.js';

/**
 * Adapters between the packet and the two other shapes the sources define (reference/jitna.md
 * §2.3, §2.5): the RFC-001 nested envelope and the Layer-3 intake. Signatures do not cross: each
 * scheme signs other bytes, so a converted packet is signed (or checked) again on this side.
 */

/** RFC-001's envelope `{header, intent, payload, validation}` (timestamps in Unix ms). */
export interface RfcEnvelope {
  readonly header: {
    readonly version: string;
    readonly packet_id: string;
    readonly sender_id: string;
    readonly target_id: string;
    readonly priority: number;
    readonly timestamp: number;
    readonly trace_id?: string;
  };
  readonly intent: JsonMap;
  readonly payload: JsonMap;
  readonly validation: {
    readonly checksum: string;
    readonly schema_version: string;
    readonly expire_at?: number;
    readonly errors: readonly string[];
  };
}

/**
 * The RFC's checksum, which it requires and never defines: here SHA-256 (hex) of the JSON of
 * `{intent, payload}` with sorted keys and no spaces.
 */
export function rfcChecksum(intent: JsonMap, payload: JsonMap): string {
  return createHash('sha256')
    .update(JSON.stringify(sortedJson({ intent, payload })), 'utf8')
    .digest('hex');
}

/**
 * A packet as an RFC-001 envelope: the packet's `payload.intent` becomes the envelope's intent
 * section and the rest of its payload the envelope's payload section; `correlation_id` is the
 * `trace_id`.
 */
export function toRfcEnvelope(p: JitnaPacket): RfcEnvelope {
  const { intent, ...rest } = p.payload;
  const i = (
    intent !== null && typeof intent === 'object' && !Array.isArray(intent) ? intent : {}
  ) as JsonMap;
  const ts = parseRfc3339(p.timestamp);
  if (ts === undefined) throw new PacketInputError(`timestamp ${p.timestamp} is not RFC 3339`);
  const exp = p.expires_at === undefined ? undefined : parseRfc3339(p.expires_at)?.ms;
  return {
    header: {
      version: '2.0',
      packet_id: p.packet_id,
      sender_id: p.source_agent_id,
      target_id: p.target_agent_id,
      priority: p.priority,
      timestamp: ts.ms,
      ...(p.correlation_id !== undefined ? { trace_id: p.correlation_id } : {}),
    },
    intent: i,
    payload: rest,
    validation: {
      checksum: rfcChecksum(i, rest),
      schema_version: p.schema_version,
      ...(exp !== undefined ? { expire_at: exp } : {}),
      errors: [],
    },
  };
}

/**
 * An RFC-001 envelope as a packet (`intent_request`, unsigned): its checksum must match, else
 * PacketInputError. The result still goes through `validatePacket`.
 */
export function fromRfcEnvelope(e: RfcEnvelope): JitnaPacket {
  const h = e?.header;
  if (
    h === undefined ||
    e.intent === undefined ||
    e.payload === undefined ||
    e.validation === undefined
  )
    throw new PacketInputError('an RFC-001 envelope has header, intent, payload and validation');
  if (e.validation.checksum !== rfcChecksum(e.intent, e.payload))
    throw new PacketInputError('the envelope checksum does not match its intent and payload');
  const p = createPacket({
    source: h.sender_id,
    target: h.target_id,
    type: 'intent_request',
    payload: { intent: e.intent, ...e.payload },
    priority: h.priority,
    now: h.timestamp,
    ...(h.trace_id !== undefined ? { correlationId: h.trace_id } : {}),
  });
  return {
    ...p,
    packet_id: h.packet_id,
    ...(e.validation.expire_at !== undefined
      ? { expires_at: new Date(e.validation.expire_at).toISOString() }
      : {}),
  };
}

/** The Layer-3 intake `{intent, context, user_id?, session_id?, timestamp?}`. */
export interface Intake {
  readonly intent: string;
  readonly context: JsonMap;
  readonly user_id?: string;
  readonly session_id?: string;
  readonly timestamp?: string;
}

/**
 * The intake's `compute_hash()`, exactly: SHA-256 of `"<intent lowercased and trimmed>:<json.dumps
 * (context, sort_keys=True)>"`. It covers the context, so a cache keyed by it never answers one
 * context with another's result (the reference's cache matched intents without their context).
 */
export function intakeHash(intent: string, context: JsonMap): string {
  return createHash('sha256')
    .update(`${intent.toLowerCase().trim()}:${pyJsonDumps(context as PyJson)}`, 'utf8')
    .digest('hex');
}

/**
 * An intake as a packet from `user_id` (or `source`) to `target`: payload `{intent, context}`,
 * the session as `correlation_id`. The reference's timestamps are naive local time; one without
 * an offset is read as UTC and says so (`metadata.assumed_utc`).
 */
export function fromIntake(
  i: Intake,
  o: { source?: string; target: string; now?: number },
): JitnaPacket {
  if (typeof i?.intent !== 'string' || i.intent.trim() === '')
    throw new PacketInputError('an intake carries an intent (a non-empty string)');
  const source = i.user_id ?? o.source;
  if (source === undefined) throw new PacketInputError('an intake without user_id needs a source');
  let now = o.now;
  let assumed = false;
  if (i.timestamp !== undefined) {
    const t = parseRfc3339(i.timestamp) ?? parseRfc3339(`${i.timestamp}Z`);
    if (t === undefined)
      throw new PacketInputError(`intake timestamp ${i.timestamp} is not ISO 8601`);
    assumed = parseRfc3339(i.timestamp) === undefined;
    now = t.ms;
  }
  return createPacket({
    source,
    target: o.target,
    type: 'intent_request',
    payload: { intent: i.intent, context: i.context ?? {} },
    metadata: {
      intake_hash: intakeHash(i.intent, i.context ?? {}),
      ...(assumed ? { assumed_utc: true } : {}),
    },
    ...(i.session_id !== undefined ? { correlationId: i.session_id } : {}),
    ...(now !== undefined ? { now } : {}),
  });
}

/** A packet carrying `{intent, context}` as an intake. */
export function toIntake(p: JitnaPacket): Intake {
  const intent = p.payload.intent;
  const context = p.payload.context ?? {};
  if (typeof intent !== 'string') throw new PacketInputError('the payload has no intent string');
  if (context === null || typeof context !== 'object' || Array.isArray(context))
    throw new PacketInputError('the payload context is not a map');
  return {
    intent,
    context: context as JsonMap,
    user_id: p.source_agent_id,
    ...(p.correlation_id !== undefined ? { session_id: p.correlation_id } : {}),
    timestamp: p.timestamp,
  };
}
