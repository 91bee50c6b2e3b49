/**
 * Level 5 (CRITICAL) work needs an approval signed by a second, different approver: a signature
 * by another agent's key, bound in the trust store, over the packet as its source will sign it
 * (the approval and the packet's own signature left out). It travels in `payload.approval`.
 */
import { createHash } from 'node:crypto';
import { type CborValue, encode, fromHex, toHex } from '../../codec/index.js';
import { fingerprint, type Signer } from '../../identity/index.js';
import type { JitnaPacket, JsonMap, PacketKeys } from '../../jitna/index.js';

const DOMAIN = 'jitna.approval.v1\u0000';

export interface Approval {
  readonly approver: string;
  readonly key_id: string;
  readonly signature: string;
}

/**
 * The bytes an approval signs: the domain, then SHA-256 of the packet's canonical CBOR without its
 * approval and without what the source's signing fills in (`signature`, `key_id`, `nonce`,
 * `expires_at`), so an approval given before signing still holds. It covers the id, the parties,
 * the time, the type and the whole payload: it approves this one packet.
 */
export function approvalBytes(p: JitnaPacket): Uint8Array {
  const { signature: _s, key_id: _k, nonce: _n, expires_at: _e, payload, ...rest } = p;
  const { approval: _a, ...plain } = payload;
  const digest = createHash('sha256')
    .update(encode({ ...rest, payload: plain } as unknown as CborValue))
    .digest();
  const d = new TextEncoder().encode(DOMAIN);
  const out = new Uint8Array(d.length + digest.length);
  out.set(d, 0);
  out.set(digest, d.length);
  return out;
}

/** `p` with `approver`'s approval in its payload (before the source signs it). */
export function approve(p: JitnaPacket, approver: Signer): JitnaPacket {
  const approval: Approval = {
    approver: approver.agent,
    key_id: fingerprint(approver.publicKey),
    signature: toHex(approver.sign(approvalBytes(p))),
  };
  return { ...p, payload: { ...p.payload, approval: approval as unknown as JsonMap } };
}

/** Why the approval does not hold, or undefined when it does. */
export function approvalProblem(
  p: JitnaPacket,
  keys: PacketKeys,
  approvers?: ReadonlySet<string>,
): string | undefined {
  const a = p.payload.approval as unknown as Approval | undefined;
  if (a === undefined || a === null || typeof a !== 'object')
    return 'level 5 work needs an approval signed by a second approver (payload.approval)';
  if (
    typeof a.approver !== 'string' ||
    typeof a.key_id !== 'string' ||
    typeof a.signature !== 'string'
  )
    return 'the approval is not {approver, key_id, signature}';
  if (a.approver === p.source_agent_id)
    return `the approval is by ${a.approver}, the packet's own source: a second approver must sign`;
  if (approvers !== undefined && !approvers.has(a.approver))
    return `${a.approver} is not one of the approvers`;
  const bound = keys.get(a.approver);
  if (bound === undefined) return `the approver ${a.approver} is not in the trust store`;
  if (bound.fingerprint !== a.key_id)
    return `the approval's key is not the one bound to ${a.approver}`;
  if (a.key_id === p.key_id) return 'the approval is signed with the same key as the packet';
  const sig = fromHex(a.signature);
  if (sig === undefined || keys.verify(a.approver, approvalBytes(p), sig) !== 'ok')
    return 'the approval signature does not match the packet';
  return undefined;
}
