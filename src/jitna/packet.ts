/**
 * The JITNA packet (issue 7, `docs/JITNA.md`): the v2 fields of the reference implementation, the
 * v3 fields (`hop_trace`, `ttl`, `compressed`) and what the RFC promises and no code had
 * (`expires_at`, `nonce`, `seq`, `key_id`, `in_reply_to`). One schema; the wire enums are
 * lowercase; priority is an integer 1–5, 1 the highest; timestamps are RFC 3339 in UTC.
 */

/** JSON values: what a packet holds (no byte strings, no bigints, no NaN or infinities). */
export type Json = null | boolean | number | string | readonly Json[] | JsonMap;
export interface JsonMap {
  readonly [key: string]: Json;
}

/** The schema this implementation writes; it reads "2.0" packets too (without the v3 fields). */
export const SCHEMA_VERSION = '3.0';
export const SCHEMA_VERSIONS = ['2.0', '3.0'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

/** The message types of "2.0", in the reference's order. */
export const V2_MESSAGE_TYPES = [
  'intent_request',
  'intent_response',
  'negotiation',
  'confirmation',
  'status_update',
  'error',
  'heartbeat',
] as const;
export const MESSAGE_TYPES = [...V2_MESSAGE_TYPES, 'stream_chunk', 'stream_end'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const STATUSES = [
  'created',
  'validated',
  'dispatched',
  'received',
  'processed',
  'failed',
] as const;
export type Status = (typeof STATUSES)[number];

/** The largest payload, measured on its canonical CBOR encoding. */
export const MAX_PAYLOAD_BYTES = 1_048_576;
/** The largest metadata map, measured the same way. */
export const MAX_METADATA_BYTES = 65_536;
/** Hops a packet may take when it says nothing (v3). */
export const DEFAULT_TTL = 8;
/** The target of a packet meant for every agent that hears it (a call for proposals). */
export const BROADCAST = '*';

/** A packet, canonical: absent optional fields are left out (never `null`). */
export interface JitnaPacket {
  readonly packet_id: string;
  readonly source_agent_id: string;
  readonly target_agent_id: string;
  readonly message_type: MessageType;
  readonly payload: JsonMap;
  readonly timestamp: string;
  readonly schema_version: SchemaVersion;
  /** 1 (highest) to 5 (lowest). */
  readonly priority: number;
  readonly correlation_id?: string;
  /** The packet this one answers. */
  readonly in_reply_to?: string;
  readonly metadata: JsonMap;
  readonly status: Status;
  /** v3: agents the packet passed through, in order. */
  readonly hop_trace?: readonly string[];
  /** v3: hops left. */
  readonly ttl?: number;
  /** v3: the payload is `{compressed_data}` (stream.ts). */
  readonly compressed?: boolean;
  /** Until when the packet may be acted on (RFC 3339 UTC); required when signed. */
  readonly expires_at?: string;
  /** 128 random bits or more, as lowercase hex; required when signed. */
  readonly nonce?: string;
  /** Per sender and correlation id, from 0 up: orders a conversation's packets. */
  readonly seq?: number;
  /** The fingerprint of the signing key (lowercase hex SHA-256 of the raw public key). */
  readonly key_id?: string;
  /** Ed25519, lowercase hex (sign.ts). */
  readonly signature?: string;
}

/** The fields every packet has, in the order the JSON form writes them. */
export const REQUIRED_FIELDS = [
  'packet_id',
  'source_agent_id',
  'target_agent_id',
  'message_type',
  'payload',
  'timestamp',
  'schema_version',
  'priority',
  'metadata',
  'status',
] as const;
/** The optional fields, in the order the JSON form writes them. */
export const OPTIONAL_FIELDS = [
  'correlation_id',
  'in_reply_to',
  'hop_trace',
  'ttl',
  'compressed',
  'expires_at',
  'nonce',
  'seq',
  'key_id',
  'signature',
] as const;
/** The fields a "2.0" packet may not carry. */
export const V3_FIELDS = ['hop_trace', 'ttl', 'compressed'] as const;
export const FIELDS: readonly string[] = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS];

/** An RFC 3339 timestamp in UTC, milliseconds, as `Date.prototype.toISOString` writes it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
