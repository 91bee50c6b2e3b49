import type { CborValue } from '../codec/index.js';
import { type AuditEntry, diffLines, toLines, verifyAuditChain } from '../kernel/index.js';
import { type AuditHead, fetchAuditTrail, fetchTrust, type RpcCalls } from '../sdk/index.js';

type Obj = Record<string, CborValue>;

/** A node of the history graph: a snapshot or a rewrite (merge) node. */
export interface HistoryNode {
  readonly id: string;
  readonly type: 'snapshot' | 'rewrite';
  readonly lamport: number;
  readonly author: string | null;
  readonly message: string | null;
  readonly sws: string | null;
  /** Parents that are in the graph too (the rest lie past the limit). */
  readonly parents: readonly string[];
  /** Refs that point here. */
  readonly refs: readonly string[];
}

const hex = (v: CborValue | undefined): string | null =>
  v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'string' ? v : null;

/**
 * The history graph: snapshots and rewrite nodes reachable from the branches and tags (the
 * kernel's own `jit/` refs left out), newest first, at most `limit`.
 */
export async function history(c: RpcCalls, limit: number): Promise<HistoryNode[]> {
  const refs = ((await c.call('ref.list', {})) as Obj).refs as Obj[];
  const names = new Map<string, string[]>();
  for (const r of refs) {
    const name = r.name as string;
    if (name.startsWith('jit/') || typeof r.target !== 'string') continue;
    names.set(r.target, [...(names.get(r.target) ?? []), name]);
  }
  const seen = new Map<string, Obj>();
  // newest first by lamport: a frontier kept sorted (small: one entry per open branch of history)
  let frontier = [...names.keys()];
  const lamports = new Map<string, number>();
  while (frontier.length > 0 && seen.size < limit) {
    const id = frontier.shift()!;
    if (seen.has(id)) continue;
    const n = (await c.call('dag.get_node', { id })) as Obj;
    if (n.type !== 'snapshot' && n.type !== 'rewrite') continue;
    seen.set(id, n);
    for (const p of n.parents as string[])
      if (!seen.has(p) && !frontier.includes(p)) {
        frontier.push(p);
        if (!lamports.has(p)) lamports.set(p, (n.lamport as number) - 1);
      }
    frontier = frontier.sort((a, b) => (lamports.get(b) ?? 0) - (lamports.get(a) ?? 0));
  }
  const out: HistoryNode[] = [];
  for (const [id, n] of seen) {
    const p = (n.payload ?? {}) as Obj;
    out.push({
      id,
      type: n.type as 'snapshot' | 'rewrite',
      lamport: n.lamport as number,
      author: typeof p.author === 'string' ? p.author : null,
      message: typeof p.message === 'string' ? p.message : null,
      sws: hex(p.sws),
      parents: (n.parents as string[]).filter((x) => seen.has(x)),
      refs: names.get(id) ?? [],
    });
  }
  return out.sort((a, b) => b.lamport - a.lamport || (a.id < b.id ? -1 : 1));
}

/** One line of a path's diff: context, removed or added. */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** What changed in one path of an SWS against its base: a line diff, or why there is none. */
export async function pathDiff(
  c: RpcCalls,
  sws: string,
  path: string,
): Promise<{ path: string; change: string; lines: DiffLine[] | null; note: string | null }> {
  const changes = ((await c.call('shadow.diff', { id: sws })) as Obj).changes as Obj[];
  const ch = changes.find((x) => x.path === path);
  if (ch === undefined) return { path, change: 'unchanged', lines: null, note: 'not changed' };
  const content = async (id: CborValue): Promise<Uint8Array> => {
    if (typeof id !== 'string') return new Uint8Array();
    const p = ((await c.call('dag.get_node', { id })) as Obj).payload;
    return p instanceof Uint8Array ? p : new Uint8Array();
  };
  if (ch.change === 'conflict')
    return { path, change: 'conflict', lines: null, note: 'a conflict waiting to be resolved' };
  const a = toLines(await content(ch.from ?? null));
  const b = toLines(await content(ch.to ?? null));
  if (a === undefined || b === undefined)
    return { path, change: ch.change as string, lines: null, note: 'binary content' };
  const base = ch.from === null || ch.from === undefined ? [] : a;
  const next = ch.to === null || ch.to === undefined ? [] : b;
  const lines: DiffLine[] = [];
  const CONTEXT = 2;
  let at = 0;
  for (const h of diffLines(base, next)) {
    const from = Math.max(at, h.start - CONTEXT);
    for (let i = from; i < h.start; i++) lines.push({ op: ' ', text: base[i]! });
    for (let i = h.start; i < h.end; i++) lines.push({ op: '-', text: base[i]! });
    for (const t of h.lines) lines.push({ op: '+', text: t });
    const to = Math.min(base.length, h.end + CONTEXT);
    for (let i = h.end; i < to; i++) lines.push({ op: ' ', text: base[i]! });
    at = to;
    if (lines.length > 2000) break;
  }
  return { path, change: ch.change as string, lines, note: null };
}

export interface AuditStatus {
  /** The chain checked to the kernel's head: every digest, link, number and signature. */
  readonly verified: boolean;
  readonly problem: string | null;
  readonly head: AuditHead;
  readonly count: number;
  /** The last entries, newest first. */
  readonly recent: readonly AuditEntry[];
}

/**
 * Checks the audit chain as `jit audit verify` does: entries fetched since the last check are
 * verified against the last verified digest, and the whole chain again every `fullEveryMs`.
 */
export class AuditWatch {
  private last: { seq: number; digest: string } | null = null;
  private recent: AuditEntry[] = [];
  private lastFull = Number.NEGATIVE_INFINITY;
  private broken: string | null = null;
  private readonly fullEveryMs: number;
  private running: Promise<AuditStatus> | undefined;

  constructor(fullEveryMs = 30_000) {
    this.fullEveryMs = fullEveryMs;
  }

  check(c: RpcCalls): Promise<AuditStatus> {
    this.running ??= this.run(c).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(c: RpcCalls): Promise<AuditStatus> {
    const full = performance.now() - this.lastFull > this.fullEveryMs || this.broken !== null;
    const from = full || this.last === null ? 0 : this.last.seq + 1;
    const { entries, head } = await fetchAuditTrail(c, from);
    const keys = await fetchTrust(c);
    const v = verifyAuditChain(entries, {
      from: { seq: from, previous: from === 0 ? null : this.last!.digest },
      ...(head !== null ? { head } : {}),
      keys,
    });
    if (full) {
      this.lastFull = performance.now();
      this.recent = [];
    }
    this.recent = [...this.recent, ...entries].slice(-50);
    if (v.ok) {
      this.broken = null;
      this.last = head;
    } else this.broken = `${v.problem} at entry ${v.seq}: ${v.detail}`;
    return {
      verified: v.ok,
      problem: this.broken,
      head,
      count: head === null ? 0 : head.seq + 1,
      recent: [...this.recent].reverse(),
    };
  }
}
