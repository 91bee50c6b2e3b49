import { randomBytes } from 'node:crypto';
import { type CborValue, encode, fromHex, toHex } from '../codec/index.js';
import { fingerprint, type Signer, type Verdict } from '../identity/index.js';
import { PacketInvalidError, PacketRefusedError } from './errors.js';
import { BROADCAST, type JitnaPacket, rfc3339 } from './packet.js';
import { ReplayCache } from './replay-cache.js';
import { parseRfc3339 } from './time.js';
import { type Readings, validatePacket, validateReading } from './validate.js';

/** What a packet signature signs before the packet: domain separation from every other use. */
export const PACKET_DOMAIN = new TextEncoder().encode('jitna.packet.v1\u0000');
/** How long a packet signed without an `expires_at` stays valid (1 min). */
export const DEFAULT_PACKET_TTL_MS = 60_000;
/** The longest a verifier lets a packet live, `expires_at − timestamp` (10 min). */
export const MAX_PACKET_LIFETIME_MS = 600_000;

/**
 * The bytes a packet's signature covers: `"jitna.packet.v1\0"` then the canonical CBOR of the
 * whole packet without `signature`, so every other field (target, id, priority, correlation,
 * metadata, status, nonce, expiry, the v3 routing fields, unknown fields) is covered.
 */
export function packetSigningBytes(p: JitnaPacket): Uint8Array {
  const { signature: _, ...rest } = p;
  const body = encode(rest as unknown as CborValue);
  const out = new Uint8Array(PACKET_DOMAIN.length + body.length);
  out.set(PACKET_DOMAIN, 0);
  out.set(body, PACKET_DOMAIN.length);
  return out;
}

export interface SignPacketOptions {
  /** The time to check against (ms); default now. */
  readonly now?: number;
  /** Lifetime given to a packet without `expires_at`, default 1 min. */
  readonly ttlMs?: number;
}

/**
 * Signs a packet as `signer` (which must be its `source_agent_id`): fills in `key_id` (the key's
 * fingerprint), a 128-bit `nonce` and `expires_at` where absent, checks the result with
 * `validatePacket`, and returns it with its `signature`. Compress first (stream.ts): the
 * signature covers the packet as sent. Throws PacketInvalidError with the validator's findings.
 */
export function signPacket(
  p: JitnaPacket,
  signer: Signer,
  opts: SignPacketOptions = {},
): JitnaPacket {
  if (p.source_agent_id !== signer.agent)
    throw new PacketInvalidError(
      `${signer.agent} cannot sign a packet from ${JSON.stringify(p.source_agent_id)} (source_agent_id must be the signer)`,
      { signer: signer.agent },
    );
  const now = opts.now ?? Date.now();
  const ts = parseRfc3339(p.timestamp)?.ms ?? now;
  const { signature: _, ...unsigned } = p;
  const filled: JitnaPacket = {
    ...unsigned,
    key_id: fingerprint(signer.publicKey),
    nonce: p.nonce ?? randomBytes(16).toString('hex'),
    expires_at: p.expires_at ?? rfc3339(ts + (opts.ttlMs ?? DEFAULT_PACKET_TTL_MS)),
  };
  const signed = signingBytesIfAny(filled);
  const r = validatePacket(filled, {
    now,
    ...(signed !== undefined ? { encodedBytes: signed.length + 256 } : {}),
  });
  if (!r.is_valid)
    throw new PacketInvalidError(
      `cannot sign an invalid packet: ${r.errors.map((e) => e.message).join('; ')}`,
      { codes: r.errors.map((e) => e.code).join(',') },
    );
  return { ...filled, signature: toHex(signer.sign(signed!)) };
}

/**
 * The signed bytes of what may be a packet, or undefined when it cannot be encoded at all (the
 * validator then says what is wrong). Their length spares the validator encoding payload and
 * metadata again (`encodedBytes`, with room for the signature).
 */
function signingBytesIfAny(p: unknown): Uint8Array | undefined {
  if (p === null || typeof p !== 'object') return undefined;
  try {
    return packetSigningBytes(p as JitnaPacket);
  } catch {
    return undefined;
  }
}

/** Why a packet was refused, in the order the checks run. */
export type PacketRefusal =
  | 'invalid'
  | 'expired'
  | 'unsigned'
  | 'wrong-audience'
  | 'unknown-sender'
  | 'wrong-key'
  | 'bad-signature'
  | 'replayed';

export type PacketVerdict =
  | { readonly ok: true; readonly packet: JitnaPacket; readonly coverage: 'full' }
  | { readonly ok: false; readonly reason: PacketRefusal; readonly detail: string };

/** Whose keys: the trust store (`TrustStore`), or anything that looks up and verifies alike. */
export interface PacketKeys {
  get(agent: string): { readonly fingerprint: string } | undefined;
  verify(agent: string, message: Uint8Array, sig: Uint8Array): Verdict;
}

export interface PacketVerifierOptions {
  readonly keys: PacketKeys;
  /**
   * Who this verifier takes packets for: its agent id(s). A packet for another target is
   * refused (`wrong-audience`); one for `*` (every agent) is taken. Absent: any target.
   */
  readonly audience?: string | readonly string[];
  /** Packets already taken (default: a cache of its own). */
  readonly replay?: ReplayCache;
  /** The clock (ms), default Date.now. */
  readonly now?: () => number;
  /** How far a packet's timestamp may be ahead of this clock (default 5 min). */
  readonly maxSkewMs?: number;
  /** The longest `expires_at − timestamp` taken (default 10 min). */
  readonly maxLifetimeMs?: number;
}

/**
 * Verifies packets signed with `signPacket`, in this order, each failure its own reason:
 * the packet's form (`invalid`) → its expiry (`expired`) → a signature at all (`unsigned`) → its
 * audience (`wrong-audience`) → a key bound to `source_agent_id` in the trust store
 * (`unknown-sender`), and the packet's `key_id` that key's fingerprint (`wrong-key`) → the
 * signature (`bad-signature`) → not taken before (`replayed`, by nonce and by packet id, until
 * it expires). Only a packet that passes everything is remembered as taken.
 */
export class PacketVerifier {
  private readonly o: PacketVerifierOptions;
  private readonly audience: ReadonlySet<string> | undefined;
  readonly replay: ReplayCache;

  constructor(o: PacketVerifierOptions) {
    this.o = o;
    this.audience =
      o.audience === undefined
        ? undefined
        : new Set(typeof o.audience === 'string' ? [o.audience] : o.audience);
    this.replay = o.replay ?? new ReplayCache();
  }

  verify(p: unknown): PacketVerdict {
    const now = (this.o.now ?? Date.now)();
    const refuse = (reason: PacketRefusal, detail: string): PacketVerdict => ({
      ok: false,
      reason,
      detail,
    });
    // the signed bytes first: their length spares the validator encoding payload and metadata
    const signed = signingBytesIfAny(p);
    const read: Readings = {};
    const r = validateReading(
      p,
      {
        now,
        ...(this.o.maxSkewMs !== undefined ? { maxSkewMs: this.o.maxSkewMs } : {}),
        ...(signed !== undefined ? { encodedBytes: signed.length + 256 } : {}),
      },
      read,
    );
    const broken = r.errors.filter((e) => e.code !== 'expired');
    if (broken.length > 0) return refuse('invalid', broken.map((e) => e.message).join('; '));
    if (r.errors.length > 0) return refuse('expired', r.errors[0]!.message);
    const pk = p as JitnaPacket;
    if (pk.signature === undefined) return refuse('unsigned', 'the packet carries no signature');
    const ts = read.timestamp!;
    const exp = read.expires!;
    const lifetime = this.o.maxLifetimeMs ?? MAX_PACKET_LIFETIME_MS;
    if (exp - ts > lifetime)
      return refuse(
        'invalid',
        `the packet would live ${Math.round((exp - ts) / 1000)} s (at most ${lifetime / 1000} s)`,
      );
    if (
      this.audience !== undefined &&
      pk.target_agent_id !== BROADCAST &&
      !this.audience.has(pk.target_agent_id)
    )
      return refuse(
        'wrong-audience',
        `the packet is for ${pk.target_agent_id}, not ${[...this.audience].join(' or ')}`,
      );
    const bound = this.o.keys.get(pk.source_agent_id);
    if (bound === undefined)
      return refuse('unknown-sender', `${pk.source_agent_id} is not in the trust store`);
    if (bound.fingerprint !== pk.key_id)
      return refuse(
        'wrong-key',
        `signed with key ${pk.key_id!.slice(0, 16)}…, but ${pk.source_agent_id} is bound to ${bound.fingerprint.slice(0, 16)}…`,
      );
    const v = this.o.keys.verify(pk.source_agent_id, signed!, fromHex(pk.signature)!);
    if (v === 'unknown-sender')
      return refuse('unknown-sender', `${pk.source_agent_id} is not in the trust store`);
    if (v !== 'ok') return refuse('bad-signature', 'the signature does not match the packet');
    if (this.replay.has(pk.source_agent_id, pk.nonce!, pk.packet_id, now))
      return refuse(
        'replayed',
        `packet ${pk.packet_id} (nonce ${pk.nonce!.slice(0, 8)}…) was taken before`,
      );
    this.replay.add(pk.source_agent_id, pk.nonce!, pk.packet_id, exp, now);
    return { ok: true, packet: pk, coverage: 'full' };
  }

  /** As `verify`, returning the packet or throwing PacketRefusedError with the reason. */
  check(p: unknown): JitnaPacket {
    const v = this.verify(p);
    if (v.ok) return v.packet;
    throw new PacketRefusedError(`packet refused (${v.reason}): ${v.detail}`, { reason: v.reason });
  }
}
