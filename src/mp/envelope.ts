import { randomFillSync } from 'node:crypto';
import { type CborValue, decode, encode, toHex } from '../codec/index.js';
import {
  checkAgentId,
  SIGNATURE_BYTES,
  type Signer,
  type Verdict,
  type Verifier,
} from '../identity/index.js';
import { EnvelopeError } from './errors.js';
import { checkTopic } from './topic.js';

/** The envelope version this code writes and reads. */
export const ENVELOPE_VERSION = 1;
/** Bytes of a message id. */
export const MESSAGE_ID_BYTES = 16;
/** Largest encoded envelope accepted (a 1 MiB payload fits with room to spare). */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/**
 * A Message Plane envelope (DESIGN §6), canonical CBOR: `{v, id, sender, ts, seq, topic, payload,
 * exp?, sig?}`. `sig` is the sender's Ed25519 signature over the canonical encoding of the envelope
 * without `sig`, so the topic, sequence number and id are signed with the payload.
 */
export interface Envelope {
  readonly v: number;
  readonly id: Uint8Array;
  readonly sender: string;
  /** The sender's Lamport clock: advisory, for ordering and tracing. */
  readonly ts: number;
  /** 1, 2, 3… per (sender, topic). */
  readonly seq: number;
  readonly topic: string;
  readonly payload: CborValue;
  /**
   * When the message stops being valid, in ms since the Unix epoch (signed with the rest):
   * subscribers refuse it after that, so a copy replayed later is worthless. Optional in the
   * format; the plane sets it on everything it sends.
   */
  readonly exp?: number;
  readonly sig?: Uint8Array;
}

const KEYS = new Set(['v', 'id', 'sender', 'ts', 'seq', 'topic', 'payload', 'exp', 'sig']);

// message ids come from a pool of random bytes refilled 256 ids at a time: one call into the
// CSPRNG per 256 messages instead of one per message
const pool = new Uint8Array(MESSAGE_ID_BYTES * 256);
let poolAt = pool.length;

/** A fresh random message id. */
export function newMessageId(): Uint8Array {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += MESSAGE_ID_BYTES;
  return pool.slice(poolAt - MESSAGE_ID_BYTES, poolAt);
}

/** The message id as text (logs, status answers). */
export function messageIdHex(e: Pick<Envelope, 'id'>): string {
  return toHex(e.id);
}

function unsigned(e: Envelope): Record<string, CborValue> {
  const v: Record<string, CborValue> = {
    v: e.v,
    id: e.id,
    sender: e.sender,
    ts: e.ts,
    seq: e.seq,
    topic: e.topic,
    payload: e.payload,
  };
  if (e.exp !== undefined) v.exp = e.exp;
  return v;
}

/** The bytes a signature covers: the canonical envelope without `sig`. */
export function signingBytes(e: Envelope): Uint8Array {
  return encode(unsigned(e));
}

/** The envelope with `signer`'s signature (the sender must be the signer's agent). */
export function seal(e: Envelope, signer: Signer): Envelope {
  if (e.sender !== signer.agent)
    throw new EnvelopeError(`cannot sign as ${e.sender} with the key of ${signer.agent}`);
  return { ...unsigned(e), sig: signer.sign(signingBytes(e)) } as Envelope;
}

/** Checks the signature: 'unsigned' when there is none. */
export function checkSignature(e: Envelope, verifier: Verifier): Verdict | 'unsigned' {
  if (e.sig === undefined) return 'unsigned';
  return verifier.verify(e.sender, signingBytes(e), e.sig);
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  const v = unsigned(e);
  if (e.sig !== undefined) v.sig = e.sig;
  return encode(v);
}

function uint(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new EnvelopeError(`envelope field ${field} is not an unsigned integer`, { field });
  return v;
}

/** Decodes and checks every field; throws EnvelopeError naming what is wrong. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw new EnvelopeError(`envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
  let v: CborValue;
  try {
    v = decode(bytes);
  } catch (e) {
    throw new EnvelopeError('an envelope is not canonical CBOR', {}, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
    throw new EnvelopeError('an envelope is a CBOR map');
  const m = v as Record<string, CborValue>;
  for (const k of Object.keys(m))
    if (!KEYS.has(k)) throw new EnvelopeError(`unknown envelope field "${k}"`, { field: k });
  if (m.v !== ENVELOPE_VERSION)
    throw new EnvelopeError(`envelope version ${String(m.v)} is not ${ENVELOPE_VERSION}`);
  if (!(m.id instanceof Uint8Array) || m.id.length !== MESSAGE_ID_BYTES)
    throw new EnvelopeError(`envelope id is not ${MESSAGE_ID_BYTES} bytes`, { field: 'id' });
  try {
    checkAgentId(m.sender);
    checkTopic(m.topic);
  } catch (e) {
    throw new EnvelopeError(`envelope: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!('payload' in m)) throw new EnvelopeError('envelope has no payload', { field: 'payload' });
  if (m.sig !== undefined && (!(m.sig instanceof Uint8Array) || m.sig.length !== SIGNATURE_BYTES))
    throw new EnvelopeError(`envelope sig is not ${SIGNATURE_BYTES} bytes`, { field: 'sig' });
  const seq = uint(m.seq, 'seq');
  if (seq === 0) throw new EnvelopeError('envelope seq starts at 1', { field: 'seq' });
  return {
    v: ENVELOPE_VERSION,
    id: m.id,
    sender: m.sender as string,
    ts: uint(m.ts, 'ts'),
    seq,
    topic: m.topic as string,
    payload: m.payload as CborValue,
    ...(m.exp === undefined ? {} : { exp: uint(m.exp, 'exp') }),
    ...(m.sig === undefined ? {} : { sig: m.sig as Uint8Array }),
  };
}
