import { type CborValue, copyBytes, decodePrefix } from '../codec/index.js';

/**
 * The fields of an envelope map read straight off its bytes, without building the generic map
 * first: every message any subscriber takes in goes through here. It accepts only the plain,
 * well-formed case (the one every plane writes): keys in canonical order, unsigned integers in
 * their shortest heads, ASCII sender and topic, a 16-byte id and a 64-byte sig. On anything else it
 * answers undefined and the caller decodes generically, which gives the same envelope or the
 * error that names what is wrong; so this never decides that bytes are bad, and a test holds the
 * two readers to the same answer on random and mutated envelopes.
 */
export interface EnvelopeFields {
  readonly id: Uint8Array;
  readonly sender: string;
  readonly ts: number;
  readonly seq: number;
  readonly topic: string;
  readonly payload: CborValue;
  readonly exp: number | undefined;
  readonly ep: number | undefined;
  readonly sig: Uint8Array | undefined;
  /** Where the envelope map ends (a batch proof may follow). */
  readonly end: number;
}

// the encoded keys, in canonical (bytewise) order
const K_V = [0x61, 0x76];
const K_EP = [0x62, 0x65, 0x70];
const K_ID = [0x62, 0x69, 0x64];
const K_TS = [0x62, 0x74, 0x73];
const K_EXP = [0x63, 0x65, 0x78, 0x70];
const K_SEQ = [0x63, 0x73, 0x65, 0x71];
const K_SIG = [0x63, 0x73, 0x69, 0x67];
const K_TOPIC = [0x65, 0x74, 0x6f, 0x70, 0x69, 0x63];
const K_SENDER = [0x66, 0x73, 0x65, 0x6e, 0x64, 0x65, 0x72];
const K_PAYLOAD = [0x67, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64];

const ID_BYTES = 16;
const SIG_BYTES = 64;
const TWO_32 = 0x1_0000_0000;

const EMPTY = new Uint8Array(0);
let b: Uint8Array = EMPTY;
let p = 0;

/** The big-endian uint32 at `at`. */
function u32(at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** Consumes `key` if it comes next. */
function key(k: readonly number[]): boolean {
  if (p + k.length > b.length) return false;
  for (let i = 0; i < k.length; i++) if (b[p + i] !== k[i]) return false;
  p += k.length;
  return true;
}

/** An unsigned integer (major type 0) in its shortest head, as a safe integer; -1 otherwise. */
function uint(): number {
  if (p >= b.length) return -1;
  const ib = b[p]!;
  if (ib >> 5 !== 0) return -1;
  return arg(ib & 31);
}

/** The argument of the head at `p` with additional info `ai`, canonical and safe; -1 otherwise. */
function arg(ai: number): number {
  const at = p + 1;
  if (ai < 24) {
    p = at;
    return ai;
  }
  if (ai === 24) {
    if (at + 1 > b.length || b[at]! < 24) return -1;
    p = at + 1;
    return b[at]!;
  }
  if (ai === 25) {
    if (at + 2 > b.length) return -1;
    const v = (b[at]! << 8) | b[at + 1]!;
    if (v < 0x100) return -1;
    p = at + 2;
    return v;
  }
  if (ai === 26) {
    if (at + 4 > b.length) return -1;
    const v = u32(at);
    if (v < 0x1_0000) return -1;
    p = at + 4;
    return v;
  }
  if (ai === 27) {
    if (at + 8 > b.length) return -1;
    const hi = u32(at);
    if (hi === 0 || hi >= 0x20_0000) return -1;
    const lo = u32(at + 4);
    p = at + 8;
    return hi * TWO_32 + lo;
  }
  return -1;
}

/** A byte string of exactly `n` bytes (a copy, as the generic reader makes); undefined otherwise. */
function bytesOf(n: number): Uint8Array | undefined {
  if (p >= b.length) return undefined;
  const ib = b[p]!;
  if (ib >> 5 !== 2) return undefined;
  const at = p;
  const len = arg(ib & 31);
  if (len !== n || p + n > b.length) {
    p = at;
    return undefined;
  }
  p += n;
  return copyBytes(b, p - n, p);
}

/** A text string of 1-255 ASCII bytes; undefined otherwise (the generic reader decides). */
function ascii(last: TextCache): string | undefined {
  if (p >= b.length) return undefined;
  const ib = b[p]!;
  if (ib >> 5 !== 3) return undefined;
  const len = arg(ib & 31);
  if (len <= 0 || len > 255 || p + len > b.length) return undefined;
  const from = p;
  p += len;
  // senders and topics repeat from one message to the next: reuse the last string if it is this one
  const prev = last.bytes;
  if (prev.length === len) {
    let same = true;
    for (let i = 0; i < len; i++)
      if (prev[i] !== b[from + i]) {
        same = false;
        break;
      }
    if (same) return last.text;
  }
  let s = '';
  for (let i = from; i < p; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  last.bytes = b.slice(from, p);
  last.text = s;
  return s;
}

interface TextCache {
  bytes: Uint8Array;
  text: string;
}
const lastSender: TextCache = { bytes: EMPTY, text: '' };
const lastTopic: TextCache = { bytes: EMPTY, text: '' };

/** See {@link EnvelopeFields}; undefined means "decode generically". */
export function readEnvelopeFast(bytes: Uint8Array): EnvelopeFields | undefined {
  b = bytes;
  p = 0;
  try {
    return read();
  } finally {
    b = EMPTY;
  }
}

function read(): EnvelopeFields | undefined {
  if (b.length < 1) return undefined;
  const head = b[0]!;
  // a map of 7 to 10 pairs
  if (head < 0xa7 || head > 0xaa) return undefined;
  const pairs = head & 31;
  p = 1;
  let n = 0;
  if (!key(K_V) || uint() !== 1) return undefined;
  n++;
  let ep: number | undefined;
  if (key(K_EP)) {
    ep = uint();
    if (ep < 0) return undefined;
    n++;
  }
  if (!key(K_ID)) return undefined;
  const id = bytesOf(ID_BYTES);
  if (id === undefined) return undefined;
  n++;
  if (!key(K_TS)) return undefined;
  const ts = uint();
  if (ts < 0) return undefined;
  n++;
  let exp: number | undefined;
  if (key(K_EXP)) {
    exp = uint();
    if (exp < 0) return undefined;
    n++;
  }
  if (!key(K_SEQ)) return undefined;
  const seq = uint();
  if (seq < 1) return undefined;
  n++;
  let sig: Uint8Array | undefined;
  if (key(K_SIG)) {
    sig = bytesOf(SIG_BYTES);
    if (sig === undefined) return undefined;
    n++;
  }
  if (!key(K_TOPIC)) return undefined;
  const topic = ascii(lastTopic);
  if (topic === undefined) return undefined;
  if (!key(K_SENDER)) return undefined;
  const sender = ascii(lastSender);
  if (sender === undefined) return undefined;
  if (!key(K_PAYLOAD)) return undefined;
  n += 3;
  if (n !== pairs || p >= b.length) return undefined;
  let payload: CborValue;
  let end: number;
  try {
    const item = decodePrefix(b, p);
    payload = item.value;
    end = item.end;
  } catch {
    return undefined;
  }
  return { id, sender, ts, seq, topic, payload, exp, ep, sig, end };
}
