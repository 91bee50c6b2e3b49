/**
 * The audit trail (issue 8): a hash chain of entries, each a `provenance` node in the DAG whose
 * parent is the previous entry (the first's is the root), and the branch `jit/audit` on the
 * newest. Each entry carries a SHA-256 checkpoint digest over `{seq, previous, by, event}`, so the
 * chain can be exported and checked without the DAG (`verifyAuditChain`), naming the first entry
 * altered, removed, reordered or cut off.
 */
import { createHash } from 'node:crypto';
import { type CborValue, decode, encode, fromHex, jsonProblem } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import type { Verdict } from '../identity/index.js';
import { AUDIT_REF } from '../store/index.js';
import { AuditEventError } from './errors.js';

/** The branch the kernel keeps on the newest audit entry; only `audit.append` moves it. */
export { AUDIT_REF };
/** Refs under this prefix are the kernel's own: no client may set or delete them. */
export const RESERVED_REF_PREFIX = 'jit/';
/** The largest event, canonically encoded. */
export const MAX_AUDIT_EVENT_BYTES = 256 * 1024;

export type AuditEvent = { readonly [k: string]: CborValue };

export interface AuditEntry {
  /** 0 for the first entry, then one more each. */
  readonly seq: number;
  /** The previous entry's digest (hex), null for the first. */
  readonly previous: string | null;
  /** The agent that appended it (the kernel's authenticated caller). */
  readonly by: string;
  readonly event: AuditEvent;
  /** SHA-256 (hex) of the canonical CBOR of `{seq, previous, by, event}`. */
  readonly digest: string;
  /** Who signed the digest (jitd signs as `jit-kernel`), when signed. */
  readonly signer?: string;
  /** Ed25519 over `"jit.audit.v1\0"` and the digest's 32 bytes (hex), when signed. */
  readonly sig?: string;
}

const SIG_DOMAIN = new TextEncoder().encode('jit.audit.v1\u0000');

/** The bytes an entry's signature covers: the domain, then the digest's 32 bytes. */
export function auditSigningBytes(digest: string): Uint8Array {
  const d = fromHex(digest);
  if (d === undefined || d.length !== 32)
    throw new AuditEventError(`${digest} is not a SHA-256 digest`);
  const out = new Uint8Array(SIG_DOMAIN.length + 32);
  out.set(SIG_DOMAIN, 0);
  out.set(d, SIG_DOMAIN.length);
  return out;
}

export function auditDigest(e: Omit<AuditEntry, 'digest'>): string {
  return createHash('sha256')
    .update(encode({ seq: e.seq, previous: e.previous, by: e.by, event: e.event }))
    .digest('hex');
}

/** Checks an event a client asks to append; throws AuditEventError saying what is wrong. */
export function checkAuditEvent(event: unknown): AuditEvent {
  if (
    event === null ||
    typeof event !== 'object' ||
    Array.isArray(event) ||
    event instanceof Uint8Array
  )
    throw new AuditEventError(`an audit event is a map, not ${describeValue(event)}`);
  const bad = jsonProblem(event, 'event');
  if (bad !== undefined)
    throw new AuditEventError(
      `${bad}: an audit event holds JSON values only (so an export reads back to the same digest)`,
    );
  const n = encode(event as CborValue).length;
  if (n > MAX_AUDIT_EVENT_BYTES)
    throw new AuditEventError(
      `an audit event of ${n} bytes is larger than ${MAX_AUDIT_EVENT_BYTES}`,
    );
  if (typeof (event as AuditEvent).type !== 'string' || (event as AuditEvent).type === '')
    throw new AuditEventError('an audit event names its type (a non-empty string `type`)');
  return event as AuditEvent;
}

/** The entry after `prev` (undefined: the first). */
export function nextAuditEntry(
  prev: AuditEntry | undefined,
  by: string,
  event: AuditEvent,
): AuditEntry {
  const body = {
    seq: prev === undefined ? 0 : prev.seq + 1,
    previous: prev?.digest ?? null,
    by,
    event,
  };
  return { ...body, digest: auditDigest(body) };
}

/** The provenance node payload of an entry. */
export function auditPayload(e: AuditEntry): CborValue {
  return {
    kind: 'audit',
    seq: e.seq,
    previous: e.previous,
    by: e.by,
    event: e.event,
    digest: e.digest,
    ...(e.sig !== undefined ? { signer: e.signer ?? null, sig: e.sig } : {}),
  };
}

/** The entry a provenance node's payload holds, or undefined when it holds none. */
export function auditEntryOf(payload: CborValue | Uint8Array): AuditEntry | undefined {
  const p = (payload instanceof Uint8Array ? decode(payload) : payload) as Record<
    string,
    CborValue
  >;
  if (p === null || typeof p !== 'object' || p.kind !== 'audit') return undefined;
  const { seq, previous, by, event, digest, signer, sig } = p;
  if (
    typeof seq !== 'number' ||
    !(previous === null || typeof previous === 'string') ||
    typeof by !== 'string' ||
    event === null ||
    typeof event !== 'object' ||
    typeof digest !== 'string'
  )
    return undefined;
  return {
    seq,
    previous,
    by,
    event: event as AuditEvent,
    digest,
    ...(typeof sig === 'string' ? { sig, ...(typeof signer === 'string' ? { signer } : {}) } : {}),
  };
}

/** Where a chain stops holding, with the first entry concerned. */
export type AuditProblem =
  | 'malformed'
  | 'unsigned'
  | 'forged'
  | 'altered'
  | 'removed'
  | 'reordered'
  | 'truncated'
  | 'unlinked';

export type AuditVerdict =
  | {
      readonly ok: true;
      readonly count: number;
      readonly head: { seq: number; digest: string } | null;
    }
  | {
      readonly ok: false;
      readonly problem: AuditProblem;
      /** The seq of the entry where the chain breaks (for `removed`, the first one missing). */
      readonly seq: number;
      /** Position in the list checked. */
      readonly index: number;
      readonly detail: string;
    };

/**
 * Checks a chain given oldest first. `from` (default 0, with `previous` null) is where it must
 * start: a later start needs the digest of the entry before it (`previous`). `head`, when known
 * (the kernel's, or one written down earlier), is where it must end: a chain that stops short of
 * it was cut off, one that ends elsewhere was altered.
 */
export function verifyAuditChain(
  entries: readonly AuditEntry[],
  o: {
    readonly from?: { readonly seq: number; readonly previous: string | null };
    readonly head?: { readonly seq: number; readonly digest: string };
    /**
     * Checks every entry's signature too: it must be by `signer` (default `jit-kernel`) and hold
     * with these keys (the trust store). Without it signatures are not looked at.
     */
    readonly keys?: { verify(agent: string, message: Uint8Array, sig: Uint8Array): Verdict };
    readonly signer?: string;
  } = {},
): AuditVerdict {
  const fail = (
    problem: AuditProblem,
    seq: number,
    index: number,
    detail: string,
  ): AuditVerdict => ({
    ok: false,
    problem,
    seq,
    index,
    detail,
  });
  let expect = o.from?.seq ?? 0;
  let previous: string | null = o.from?.previous ?? null;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (
      e === null ||
      typeof e !== 'object' ||
      !Number.isInteger(e.seq) ||
      typeof e.digest !== 'string' ||
      typeof e.by !== 'string' ||
      e.event === null ||
      typeof e.event !== 'object'
    )
      return fail('malformed', expect, i, `entry ${i} is not {seq, previous, by, event, digest}`);
    if (e.seq !== expect) {
      const later = entries.findIndex((x, j) => j > i && x?.seq === expect);
      if (later >= 0 || e.seq < expect)
        return fail(
          'reordered',
          e.seq,
          i,
          `entry ${e.seq} stands where entry ${expect} belongs${later >= 0 ? ` (found at position ${later})` : ''}`,
        );
      return fail(
        'removed',
        expect,
        i,
        `entries ${expect}${e.seq - 1 > expect ? `–${e.seq - 1}` : ''} are missing before entry ${e.seq}`,
      );
    }
    let digest: string;
    try {
      digest = auditDigest(e);
    } catch {
      return fail('malformed', e.seq, i, `entry ${e.seq} cannot be encoded`);
    }
    if (digest !== e.digest)
      return fail(
        'altered',
        e.seq,
        i,
        `entry ${e.seq} does not match its digest (changed after it was written)`,
      );
    if (o.keys !== undefined) {
      const who = o.signer ?? 'jit-kernel';
      if (e.sig === undefined)
        return fail(
          'unsigned',
          e.seq,
          i,
          `entry ${e.seq} carries no signature (${who} signs every entry)`,
        );
      const sig = fromHex(e.sig);
      if (
        e.signer !== who ||
        sig === undefined ||
        o.keys.verify(who, auditSigningBytes(digest), sig) !== 'ok'
      )
        return fail('forged', e.seq, i, `entry ${e.seq} is not signed by ${who}`);
    }
    if (e.previous !== previous)
      return fail(
        'unlinked',
        e.seq,
        i,
        `entry ${e.seq} follows ${e.previous === null ? 'nothing' : `digest ${e.previous.slice(0, 16)}…`}, not the entry before it`,
      );
    previous = e.digest;
    expect++;
  }
  const last = entries.at(-1);
  if (o.head !== undefined) {
    if (last === undefined || last.seq < o.head.seq)
      return fail(
        'truncated',
        last === undefined ? (o.from?.seq ?? 0) : last.seq + 1,
        entries.length,
        `the chain ends at ${last === undefined ? 'nothing' : `entry ${last.seq}`}, before the head, entry ${o.head.seq}`,
      );
    if (last.seq > o.head.seq || last.digest !== o.head.digest)
      return fail(
        'altered',
        Math.min(last.seq, o.head.seq),
        entries.length - 1,
        `the chain's entry ${last.seq} is not the head the kernel holds (entry ${o.head.seq}, ${o.head.digest.slice(0, 16)}…)`,
      );
  }
  return {
    ok: true,
    count: entries.length,
    head: last === undefined ? null : { seq: last.seq, digest: last.digest },
  };
}
