import { blake3, toHex } from '../codec/index.js';
import { blobNode, encodeBlob, type NodeId } from '../dag/index.js';
import type { KnownNode } from '../store/index.js';
import { PatchConflictError, PatchInputError } from './errors.js';
import { applyHunks, fromLines, merge3, toLines } from './lines.js';
import type { Patch, PatchOp } from './patch.js';
import { ancestors } from './path.js';
import type { OverlayEntry, Sws } from './sws.js';
import { listFiles, lookup, type Nodes } from './tree.js';

/** What a path is in an SWS's view: a file, a directory, a conflict, or nothing. */
export type ViewEntry =
  | { readonly kind: 'blob'; readonly id: NodeId }
  | { readonly kind: 'tree' }
  | {
      readonly kind: 'conflict';
      readonly base: NodeId | null;
      readonly candidates: readonly NodeId[];
    }
  | undefined;

/**
 * The SWS view: overlay first, then the base tree (DESIGN §4). `local` holds the changes of the
 * patch being applied, on top of the overlay.
 */
export class SwsView {
  private readonly nodes: Nodes;
  private readonly sws: Sws;
  readonly local = new Map<string, OverlayEntry>();

  constructor(nodes: Nodes, sws: Sws) {
    this.nodes = nodes;
    this.sws = sws;
  }

  private overlayEntry(path: string): OverlayEntry | undefined {
    return this.local.get(path) ?? this.sws.overlay.get(path);
  }

  get(path: string): ViewEntry {
    const o = this.overlayEntry(path);
    if (o !== undefined)
      return o.kind === 'deleted' ? (this.isDir(path) ? { kind: 'tree' } : undefined) : o;
    const b = lookup(this.nodes, this.sws.header.baseTree, path);
    if (b?.kind === 'blob') {
      for (const a of ancestors(path)) if (this.overlayEntry(a)?.kind === 'blob') return undefined;
      return { kind: 'blob', id: b.id };
    }
    return this.isDir(path) ? { kind: 'tree' } : undefined;
  }

  /** Some live file lies under `path/`. */
  isDir(path: string): boolean {
    const prefix = `${path}/`;
    // the patch's own changes: few, so scanned
    let localLive = false;
    for (const [p, e] of this.local)
      if (p.startsWith(prefix) && e.kind !== 'deleted') localLive = true;
    if (localLive) return true;
    // the overlay keeps counts per directory; a live one counts unless this patch deleted it
    if (this.sws.hasLiveUnder(path)) {
      for (const [p, e] of this.sws.overlay) {
        if (
          e.kind !== 'deleted' &&
          p.startsWith(prefix) &&
          this.overlayEntry(p)?.kind !== 'deleted'
        )
          return true;
      }
    }
    const b = lookup(this.nodes, this.sws.header.baseTree, path);
    if (b?.kind !== 'tree') return false;
    for (const p of listFiles(this.nodes, b.id, path).keys())
      if (this.overlayEntry(p) === undefined) return true;
    return false;
  }

  content(id: NodeId): Uint8Array {
    const n = this.nodes.get(id);
    if (n.type !== 'blob') throw new PatchInputError(`${id} is a ${n.type}, not a blob`);
    return n.payload as Uint8Array;
  }
}

function conflict(message: string, path: string): never {
  throw new PatchConflictError(message, { path });
}

function check(view: SwsView, path: string, expect: NodeId | null | undefined): ViewEntry {
  const cur = view.get(path);
  if (cur?.kind === 'conflict')
    conflict(`${path} is conflicted; send a resolve for it first`, path);
  if (expect !== undefined) {
    const have = cur?.kind === 'blob' ? cur.id : cur?.kind === 'tree' ? 'a directory' : null;
    if (have !== expect)
      conflict(`${path} holds ${have ?? 'nothing'}, not the expected ${expect ?? 'nothing'}`, path);
  }
  return cur;
}

function placeFile(view: SwsView, path: string): void {
  for (const a of ancestors(path)) {
    if (view.get(a)?.kind === 'blob') conflict(`${path} cannot be created: ${a} is a file`, path);
  }
  if (view.isDir(path)) conflict(`${path} is a directory`, path);
}

/**
 * The effects of a patch on an SWS: the overlay entries it sets, sorted by path, and the blob
 * nodes it needs. Checks every op against the view as the earlier ops of the same patch left it;
 * the first failure refuses the whole patch (PatchConflictError / PatchInputError).
 */
export function patchEffects(
  nodes: Nodes,
  sws: Sws,
  patch: Patch,
  head: NodeId,
): { effects: [string, OverlayEntry][]; blobs: KnownNode[] } {
  const view = new SwsView(nodes, sws);
  const blobs: KnownNode[] = [];
  // each blob is encoded and hashed once; the store takes bytes and id as they are
  const putBlob = (content: Uint8Array): NodeId => {
    const bytes = encodeBlob(content);
    const idBytes = blake3(bytes);
    const id = toHex(idBytes);
    blobs.push({ node: blobNode(content), bytes, idBytes, id });
    return id;
  };
  for (const op of patch.ops) applyOp(view, op, putBlob, blobs, head);
  const effects = [...view.local].sort(([a], [b]) => (a < b ? -1 : 1));
  return { effects, blobs };
}

function applyOp(
  view: SwsView,
  op: PatchOp,
  putBlob: (c: Uint8Array) => NodeId,
  blobs: KnownNode[],
  head: NodeId,
): void {
  switch (op.op) {
    case 'put': {
      check(view, op.path, op.expect);
      placeFile(view, op.path);
      view.local.set(op.path, { kind: 'blob', id: putBlob(op.content) });
      return;
    }
    case 'delete': {
      const cur = check(view, op.path, op.expect);
      if (cur?.kind !== 'blob') conflict(`nothing to delete at ${op.path}`, op.path);
      view.local.set(op.path, { kind: 'deleted' });
      return;
    }
    case 'move': {
      const cur = check(view, op.from, op.expect);
      if (cur?.kind !== 'blob') conflict(`nothing to move at ${op.from}`, op.from);
      if (view.get(op.to) !== undefined) conflict(`${op.to} already exists`, op.to);
      view.local.set(op.from, { kind: 'deleted' });
      placeFile(view, op.to);
      view.local.set(op.to, { kind: 'blob', id: cur.id });
      return;
    }
    case 'edit': {
      const cur = check(view, op.path, undefined);
      if (cur?.kind !== 'blob') conflict(`nothing to edit at ${op.path}`, op.path);
      const pending = blobs.find((b) => toHex(b.idBytes) === op.base);
      const baseLines = toLines(
        pending ? (pending.node.payload as Uint8Array) : view.content(op.base),
      );
      if (baseLines === undefined)
        throw new PatchInputError(`${op.path}: base ${op.base} is not text; use put`, {
          path: op.path,
        });
      const theirs = applyHunks(baseLines, op.hunks);
      if (theirs === undefined) {
        throw new PatchInputError(
          `${op.path}: a hunk lies outside the ${baseLines.length} lines of the base`,
          { path: op.path },
        );
      }
      if (cur.id === op.base) {
        view.local.set(op.path, { kind: 'blob', id: putBlob(fromLines(theirs)) });
        return;
      }
      // the base is stale: merge three-way, or hold the path as a conflict until a resolve
      const pendingCur = blobs.find((b) => toHex(b.idBytes) === cur.id);
      const ours = toLines(
        pendingCur ? (pendingCur.node.payload as Uint8Array) : view.content(cur.id),
      );
      const merged = ours === undefined ? undefined : merge3(baseLines, ours, theirs);
      if (merged !== undefined) {
        view.local.set(op.path, { kind: 'blob', id: putBlob(fromLines(merged)) });
        return;
      }
      const t = putBlob(fromLines(theirs));
      const candidates = [...new Set([cur.id, t])].sort();
      view.local.set(op.path, { kind: 'conflict', base: op.base, candidates });
      return;
    }
    case 'resolve': {
      // a path conflicted inside the SWS takes the content; any other path takes it as the final
      // word against the branch head of this moment (what a collapse conflict asks for)
      if (view.get(op.path)?.kind === 'conflict') {
        view.local.set(op.path, { kind: 'blob', id: putBlob(op.content) });
        return;
      }
      placeFile(view, op.path);
      view.local.set(op.path, { kind: 'blob', id: putBlob(op.content), resolvedAt: head });
      return;
    }
  }
}
