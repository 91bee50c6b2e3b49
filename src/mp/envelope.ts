import { randomFillSync } from 'node:crypto';
import {
  allocBytes,
  type CborValue,
  decode,
  decodePrefix,
  encodedLength,
  encodeMap,
  HASH_BYTES,
  MapLayout,
  sizeBound,
  toHex,
} from '../codec/index.js';
import {
  type BatchProof,
  BatchVerifier,
  checkAgentId,
  pathLength,
  proofShapeProblem,
  SIGNATURE_BYTES,
  type Signer,
  signBatch,
  type Verdict,
  type Verifier,
} from '../identity/index.js';
import { type EnvelopeFields, readEnvelopeFast } from './envelope-fast.js';
import { EnvelopeError } from './errors.js';
import { checkTopic } from './topic.js';

/** The envelope version this code writes and reads. */
export const ENVELOPE_VERSION = 1;
/** Bytes of a message id. */
export const MESSAGE_ID_BYTES = 16;
/** Largest encoded envelope accepted (a 1 MiB payload fits with room to spare). */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;

/** Room left for a batch proof after the envelope (a 12-hash path, the signature and keys). */
const MAX_PROOF_BYTES = 512;

/**
 * A Message Plane envelope (DESIGN §6), canonical CBOR: `{v, id, sender, ts, seq, topic, payload,
 * exp?, ep?, sig?}`. `sig` is the sender's Ed25519 signature over the canonical encoding of the envelope
 * without `sig`, so the topic, sequence number and id are signed with the payload.
 *
 * A batch-signed envelope is two canonical CBOR items back to back: the envelope without `sig`
 * (exactly the bytes a per-message signature would cover), then its proof `{i, n, sig, path}`:
 * its place in the batch, the batch signature and the path to the signed root (see
 * `identity/batch.ts`).
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
  /**
   * The sender's stream epoch (signed with the rest): when its plane started numbering, in ms since
   * the Unix epoch, larger for each plane a sender starts. `seq` counts from 1 within an epoch, so
   * (ep, seq) orders every message a sender sends on a topic across its restarts, and a message
   * from an epoch older than one already seen is a copy of an old stream. Optional in the format
   * (0 when absent); the plane sets it on everything it sends.
   */
  readonly ep?: number;
  readonly sig?: Uint8Array;
  /** A batch signature instead of `sig`: the proof, and the envelope bytes its leaf covers. */
  readonly batch?: { readonly proof: BatchProof; readonly signed: Uint8Array };
}

const KEYS = new Set(['v', 'id', 'sender', 'ts', 'seq', 'topic', 'payload', 'exp', 'ep', 'sig']);

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
  if (e.ep !== undefined) v.ep = e.ep;
  return v;
}

// the envelope's key order, worked out once for each set of optional fields present (exp 1, ep 2,
// sig 4): encoding an envelope then neither builds a map object nor sorts its keys
const BASE_KEYS = ['v', 'id', 'sender', 'ts', 'seq', 'topic', 'payload'];
const layouts: (MapLayout | undefined)[] = new Array(8);
const scratch: CborValue[] = [];

function layoutFor(mask: number): MapLayout {
  let l = layouts[mask];
  if (l === undefined) {
    const names = [...BASE_KEYS];
    if (mask & 1) names.push('exp');
    if (mask & 2) names.push('ep');
    if (mask & 4) names.push('sig');
    l = new MapLayout(names);
    layouts[mask] = l;
  }
  return l;
}

/** The canonical bytes of `e`'s map with `sig` (or without, when undefined). */
function envelopeBytes(e: Envelope, sig: Uint8Array | undefined): Uint8Array {
  const v = scratch;
  v[0] = e.v;
  v[1] = e.id;
  v[2] = e.sender;
  v[3] = e.ts;
  v[4] = e.seq;
  v[5] = e.topic;
  v[6] = e.payload;
  let n = 7;
  let mask = 0;
  if (e.exp !== undefined) {
    v[n++] = e.exp;
    mask |= 1;
  }
  if (e.ep !== undefined) {
    v[n++] = e.ep;
    mask |= 2;
  }
  if (sig !== undefined) {
    v[n++] = sig;
    mask |= 4;
  }
  try {
    return encodeMap(layoutFor(mask), v);
  } finally {
    // keep the array's storage, drop what it held (a payload may be large)
    for (let i = 0; i < n; i++) v[i] = null;
  }
}

const REQUIRED = ['v', 'id', 'sender', 'ts', 'seq', 'topic', 'payload'] as const;
const OPTIONAL = ['exp', 'ep', 'sig'] as const;

/**
 * The length of `encodeEnvelope(e)`, found without encoding it unless it is batch-signed: an
 * in-process message travels without its bytes, and asking its size (a rate limit charges bytes)
 * must not encode it. Undefined when a field does not encode. The tests hold it to the encoding.
 */
export function envelopeLength(e: Envelope): number | undefined {
  if (e.batch !== undefined) return encodeEnvelope(e).length;
  // at most 10 entries: a one-byte map head; each key is a one-byte head and its ASCII name
  let n = 1;
  for (const k of REQUIRED) {
    const len = encodedLength(e[k]);
    if (len === undefined) return undefined;
    n += 1 + k.length + len;
  }
  for (const k of OPTIONAL) {
    const x = e[k];
    if (x === undefined) continue;
    const len = encodedLength(x);
    if (len === undefined) return undefined;
    n += 1 + k.length + len;
  }
  return n;
}

/** The bytes a signature covers: the canonical envelope without `sig`. */
export function signingBytes(e: Envelope): Uint8Array {
  return envelopeBytes(e, undefined);
}

/** The envelope with `signer`'s signature (the sender must be the signer's agent). */
export function seal(e: Envelope, signer: Signer): Envelope {
  if (e.sender !== signer.agent)
    throw new EnvelopeError(`cannot sign as ${e.sender} with the key of ${signer.agent}`);
  return { ...unsigned(e), sig: signer.sign(signingBytes(e)) } as Envelope;
}

/**
 * Signs envelopes with one batch signature (see `identity/batch.ts`). Each comes with the bytes of
 * the envelope without `sig` (its `signingBytes`, which the caller has made to check its size);
 * returns each envelope with its proof, and its bytes.
 */
export function sealBatch(
  items: readonly { readonly envelope: Envelope; readonly signed: Uint8Array }[],
  signer: Signer,
): { envelope: Envelope; bytes: Uint8Array }[] {
  const signed: Uint8Array[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const x = items[i]!;
    if (x.envelope.sender !== signer.agent)
      throw new EnvelopeError(
        `cannot sign as ${x.envelope.sender} with the key of ${signer.agent}`,
      );
    signed[i] = x.signed;
  }
  const batch = signBatch(signer, signed);
  const out: { envelope: Envelope; bytes: Uint8Array }[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const { envelope: e, signed } = items[i]!;
    const pathBytes = pathLength(i, batch.count) * HASH_BYTES;
    const bytes = joinProof(signed, i, batch.count, batch.sig, pathBytes, batch);
    const proof: BatchProof = {
      index: i,
      count: batch.count,
      sig: batch.sig,
      path: bytes.subarray(bytes.length - pathBytes),
    };
    // the envelope's own fields (a fresh object), then its proof
    const sealed = unsigned(e) as { batch?: Envelope['batch'] };
    sealed.batch = { proof, signed };
    out[i] = { envelope: sealed as unknown as Envelope, bytes };
  }
  return out;
}

/** CBOR head of a major type 0 (uint) or 2 (bytes) value below 65536, written at `at`. */
function head(out: Uint8Array, at: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    out[at] = m | n;
    return at + 1;
  }
  if (n < 256) {
    out[at] = m | 24;
    out[at + 1] = n;
    return at + 2;
  }
  out[at] = m | 25;
  out[at + 1] = n >> 8;
  out[at + 2] = n & 0xff;
  return at + 3;
}

const headBytes = (n: number): number => (n < 24 ? 1 : n < 256 ? 2 : 3);
/** What writes a message's path: the batch that was just signed, or a proof already made. */
interface PathSource {
  writePath(index: number, out: Uint8Array, at: number): void;
}

/**
 * The envelope bytes followed by the canonical CBOR of its proof, `{i, n, sig, path}` (keys in
 * canonical order), written directly, the path last: this runs once per batch-signed message.
 * The decoder, which takes canonical CBOR only, and a test against the general encoder hold it to
 * that form.
 */
function joinProof(
  signed: Uint8Array,
  index: number,
  count: number,
  sig: Uint8Array,
  pathBytes: number,
  path: PathSource,
): Uint8Array {
  const size =
    1 +
    2 +
    headBytes(index) +
    2 +
    headBytes(count) +
    4 +
    headBytes(sig.length) +
    sig.length +
    5 +
    headBytes(pathBytes);
  // a message's bytes are mid-sized: from the codec's shared slabs (codec/bytes.ts)
  const out = allocBytes(signed.length + size + pathBytes);
  out.set(signed);
  let at = signed.length;
  out[at++] = 0xa4; // a map of 4
  out[at++] = 0x61; // "i"
  out[at++] = 0x69;
  at = head(out, at, 0, index);
  out[at++] = 0x61; // "n"
  out[at++] = 0x6e;
  at = head(out, at, 0, count);
  out[at++] = 0x63; // "sig"
  out[at++] = 0x73;
  out[at++] = 0x69;
  out[at++] = 0x67;
  at = head(out, at, 2, sig.length);
  out.set(sig, at);
  at += sig.length;
  out[at++] = 0x64; // "path"
  out[at++] = 0x70;
  out[at++] = 0x61;
  out[at++] = 0x74;
  out[at++] = 0x68;
  at = head(out, at, 2, pathBytes);
  path.writePath(index, out, at);
  return out;
}

/** Generous room for an envelope's map head, keys and fixed-size fields (id, numbers). */
const ENVELOPE_FIXED_BOUND = 256;

/**
 * Whether `e` (unsigned) certainly encodes within MAX_ENVELOPE_BYTES, found without encoding it;
 * false means "encode it and see" (see `sizeBound`).
 */
export function envelopeFits(e: Envelope): boolean {
  const room =
    MAX_ENVELOPE_BYTES - ENVELOPE_FIXED_BOUND - 3 * (e.sender.length + e.topic.length) - 18;
  return sizeBound(e.payload, room) !== undefined;
}

/** Envelope bytes (without `sig`) too large to leave room for a batch proof within the limit. */
export function tooLargeToBatch(signed: Uint8Array): boolean {
  return signed.length + MAX_PROOF_BYTES > MAX_ENVELOPE_BYTES;
}

/**
 * Checks the signature, or the batch proof (through `batches` when given, which keeps the nodes it
 * has authenticated): 'unsigned' when there is neither.
 */
export function checkSignature(
  e: Envelope,
  verifier: Verifier,
  batches?: BatchVerifier,
): Verdict | 'unsigned' {
  if (e.batch !== undefined)
    return (batches ?? new BatchVerifier(verifier)).verify(e.sender, e.batch.signed, e.batch.proof);
  if (e.sig === undefined) return 'unsigned';
  return verifier.verify(e.sender, signingBytes(e), e.sig);
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  if (e.batch !== undefined) {
    const { index, count, sig, path } = e.batch.proof;
    return joinProof(e.batch.signed, index, count, sig, path.length, {
      writePath: (_, out, at) => out.set(path, at),
    });
  }
  return envelopeBytes(e, e.sig);
}

function uint(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new EnvelopeError(`envelope field ${field} is not an unsigned integer`, { field });
  return v;
}

/** Decodes and checks every field; throws EnvelopeError naming what is wrong. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  checkEnvelopeSize(bytes);
  return fromFields(bytes, readEnvelopeFast(bytes) ?? readEnvelopeGeneric(bytes));
}

function checkEnvelopeSize(bytes: Uint8Array): void {
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw new EnvelopeError(`envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
}

/**
 * `decodeEnvelope` without the fast reader (`envelope-fast.ts`): the tests hold the two to the
 * same answer.
 * @internal
 */
export function decodeEnvelopeGeneric(bytes: Uint8Array): Envelope {
  checkEnvelopeSize(bytes);
  return fromFields(bytes, readEnvelopeGeneric(bytes));
}

/** The envelope map's fields through the generic decoder, each checked for its type and size. */
function readEnvelopeGeneric(bytes: Uint8Array): EnvelopeFields {
  let v: CborValue;
  let end: number;
  try {
    ({ value: v, end } = decodePrefix(bytes));
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
  if (!('payload' in m)) throw new EnvelopeError('envelope has no payload', { field: 'payload' });
  if (m.sig !== undefined && (!(m.sig instanceof Uint8Array) || m.sig.length !== SIGNATURE_BYTES))
    throw new EnvelopeError(`envelope sig is not ${SIGNATURE_BYTES} bytes`, { field: 'sig' });
  return {
    id: m.id,
    // checked with the fast reader's fields, in `fromFields`
    sender: m.sender as string,
    topic: m.topic as string,
    ts: uint(m.ts, 'ts'),
    seq: uint(m.seq, 'seq'),
    payload: m.payload as CborValue,
    exp: m.exp === undefined ? undefined : uint(m.exp, 'exp'),
    ep: m.ep === undefined ? undefined : uint(m.ep, 'ep'),
    sig: m.sig as Uint8Array | undefined,
    end,
  };
}

/** The checks both readers share, then the envelope (with its batch proof, if one follows). */
function fromFields(bytes: Uint8Array, f: EnvelopeFields): Envelope {
  try {
    checkAgentId(f.sender);
    checkTopic(f.topic);
  } catch (e) {
    throw new EnvelopeError(`envelope: ${(e as Error).message}`, {}, { cause: e });
  }
  if (f.seq === 0) throw new EnvelopeError('envelope seq starts at 1', { field: 'seq' });
  const e: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    v: ENVELOPE_VERSION,
    id: f.id,
    sender: f.sender,
    ts: f.ts,
    seq: f.seq,
    topic: f.topic,
    payload: f.payload,
  };
  if (f.exp !== undefined) e.exp = f.exp;
  if (f.ep !== undefined) e.ep = f.ep;
  if (f.sig !== undefined) e.sig = f.sig;
  if (f.end < bytes.length) {
    if (f.sig !== undefined)
      throw new EnvelopeError('an envelope with a batch proof carries no sig of its own', {
        field: 'sig',
      });
    e.batch = { proof: decodeProof(bytes.subarray(f.end)), signed: bytes.subarray(0, f.end) };
  }
  return e;
}

const PROOF_KEYS = new Set(['i', 'n', 'sig', 'path']);

/** The batch proof after an envelope: `{i, n, sig, path}`, every field checked. */
function decodeProof(bytes: Uint8Array): BatchProof {
  let v: CborValue;
  try {
    v = decode(bytes);
  } catch (e) {
    throw new EnvelopeError(
      'what follows the envelope is not one canonical CBOR item',
      {},
      {
        cause: e,
      },
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array)
    throw new EnvelopeError('a batch proof is a CBOR map');
  const m = v as Record<string, CborValue>;
  for (const k of Object.keys(m))
    if (!PROOF_KEYS.has(k))
      throw new EnvelopeError(`unknown batch proof field "${k}"`, { field: k });
  const count = uint(m.n, 'n');
  const index = uint(m.i, 'i');
  const problem = proofShapeProblem(
    index,
    count,
    m.path instanceof Uint8Array ? m.path.length : -1,
  );
  if (problem?.field === 'i') throw new EnvelopeError(problem.message, { field: 'i' });
  if (!(m.sig instanceof Uint8Array) || m.sig.length !== SIGNATURE_BYTES)
    throw new EnvelopeError(`batch sig is not ${SIGNATURE_BYTES} bytes`, { field: 'sig' });
  if (problem !== undefined) throw new EnvelopeError(problem.message, { field: problem.field });
  return { index, count, sig: m.sig, path: m.path as Uint8Array };
}
