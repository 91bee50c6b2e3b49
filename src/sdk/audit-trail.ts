import { type CborValue, fromHex } from '../codec/index.js';
import { type AgentRole, TrustStore } from '../identity/index.js';
import { type AuditEntry, MAX_AUDIT_PAGE } from '../kernel/index.js';

/** What reads the kernel over RPC (an `RpcClient`). */
export interface RpcCalls {
  call(op: string, payload?: CborValue): Promise<CborValue>;
}

type Obj = Record<string, CborValue>;

/** The kernel's audit head: the last entry's number and digest (null: no entry yet). */
export type AuditHead = { readonly seq: number; readonly digest: string } | null;

/** Every audit entry from number `from` on, fetched in pages, with the kernel's head. */
export async function fetchAuditTrail(
  c: RpcCalls,
  from = 0,
): Promise<{ entries: AuditEntry[]; head: AuditHead }> {
  const entries: AuditEntry[] = [];
  let head: AuditHead = null;
  for (let at = from; ; ) {
    const r = (await c.call('audit.log', { from: at, limit: MAX_AUDIT_PAGE })) as Obj;
    head = (r.head as AuditHead) ?? null;
    const page = r.entries as unknown as (AuditEntry & { node?: string })[];
    for (const { node: _, ...e } of page) entries.push(e);
    if (page.length < MAX_AUDIT_PAGE || head === null || at + page.length > head.seq) break;
    at += page.length;
  }
  return { entries, head };
}

/** The kernel's trust store as `agent.list` gives it (to check audit signatures with). */
export async function fetchTrust(c: RpcCalls): Promise<TrustStore> {
  const r = (await c.call('agent.list', {})) as Obj;
  return TrustStore.memory(
    (r.agents as Obj[]).map((a) => ({
      agent: a.agent as string,
      publicKey: fromHex(a.public_key as string)!,
      role: a.role as AgentRole,
    })),
  );
}
