import { fromHex } from '../codec/index.js';
import { blobNode, type JitNode, makeNode, type NodeId, nodeId } from '../dag/index.js';
import { fromLines, merge3, toLines } from './lines.js';
import { ancestors } from './path.js';
import { annotationValue, type Sws } from './sws.js';
import { buildTree, diffTrees, lookup, type Nodes } from './tree.js';

export interface Conflict {
  readonly path: string;
  /**
   * content: overlapping edits; modify/delete; add/add; binary; file/directory; unresolved (a path
   * conflicted inside the SWS). Each is settled by a `resolve` of the path, then a commit again.
   */
  readonly kind: string;
}

export interface CollapsePlan {
  /** Nodes to store, in order (blobs of merged files, trees, the snapshot, the rewrite). */
  readonly nodes: JitNode[];
  readonly snapshot: NodeId;
  readonly rewrite: NodeId | null;
  readonly conflicts: Conflict[];
  readonly merged: boolean;
}

function content(nodes: Nodes, id: NodeId): Uint8Array {
  return nodes.get(id).payload as Uint8Array;
}

/**
 * Collapse as a pure function of (SWS, DAG, head): the snapshot the SWS becomes on `head`, or the
 * conflicts that prevent it (RFC-0005 §5, DESIGN §4). When head is still the SWS's base, the
 * snapshot's tree is the base tree plus the overlay; otherwise changes are merged per path and,
 * for text both sides edited, per line. Cost follows the changed paths, not the tree size.
 */
export function planCollapse(
  nodes: Nodes,
  sws: Sws,
  head: NodeId,
  author: string,
  message: string,
): CollapsePlan {
  const h = sws.header;
  const conflicts: Conflict[] = [];
  const ours = new Map<string, NodeId | null>();
  const resolved = new Set<string>();
  for (const [path, e] of [...sws.overlay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (e.kind === 'blob' && e.resolvedAt === head) resolved.add(path);
    if (e.kind === 'conflict') conflicts.push({ path, kind: 'unresolved' });
    else {
      const before = lookup(nodes, h.baseTree, path);
      const was = before?.kind === 'blob' ? before.id : null;
      const now = e.kind === 'blob' ? e.id : null;
      if (was !== now) ours.set(path, now);
    }
  }
  const out: JitNode[] = [];
  let tree: NodeId;
  const merged = head !== h.baseNode;
  if (!merged) {
    const built = buildTree(nodes, h.baseTree, ours);
    out.push(...built.nodes);
    tree = built.root;
  } else {
    const headTree = treeOf(nodes, head);
    const theirs = diffTrees(nodes, h.baseTree, headTree);
    const apply = new Map<string, NodeId | null>();
    for (const [path, o] of ours) {
      const t = theirs.get(path);
      const base = t !== undefined ? t[0] : (lookupBlob(nodes, h.baseTree, path) ?? null);
      const th = t !== undefined ? t[1] : base;
      if (t === undefined || th === base) {
        // only we changed it: it must still fit the head's shape
        if (o !== null && !fitsShape(nodes, headTree, path))
          conflicts.push({ path, kind: 'file/directory' });
        else apply.set(path, o);
        continue;
      }
      if (o === th) continue; // the same change on both sides: the head has it already
      if (resolved.has(path)) {
        apply.set(path, o); // resolved against this very head: the SWS's content wins
        continue;
      }
      if (o === null || th === null) {
        conflicts.push({ path, kind: 'modify/delete' });
        continue;
      }
      if (base === null) {
        conflicts.push({ path, kind: 'add/add' });
        continue;
      }
      const b = toLines(content(nodes, base));
      const x = toLines(content(nodes, o));
      const y = toLines(content(nodes, th));
      if (b === undefined || x === undefined || y === undefined) {
        conflicts.push({ path, kind: 'binary' });
        continue;
      }
      const m = merge3(b, x, y);
      if (m === undefined) {
        conflicts.push({ path, kind: 'content' });
        continue;
      }
      const blob = blobNode(fromLines(m));
      out.push(blob);
      apply.set(path, nodeId(blob));
    }
    const built = buildTree(nodes, headTree, apply);
    out.push(...built.nodes);
    tree = built.root;
  }
  const patches = [...sws.patches].sort().map((p) => fromHex(p)!);
  const lamportOf = (id: NodeId): number => nodes.get(id).meta.lamport;
  const snap = makeNode(
    'snapshot',
    [head],
    {
      tree: fromHex(tree)!,
      message,
      author,
      sws: fromHex(h.id)!,
      patches,
      // the SWS's findings travel into the snapshot's provenance (absent when there are none, so
      // snapshots without findings keep their bytes)
      ...(sws.annotations.length > 0 ? { findings: sws.annotations.map(annotationValue) } : {}),
    },
    lamportOf,
  );
  const snapshot = nodeId(snap);
  out.push(snap);
  let rewrite: NodeId | null = null;
  if (merged) {
    const lamports = (id: NodeId): number => (id === snapshot ? snap.meta.lamport : lamportOf(id));
    const rw = makeNode(
      'rewrite',
      [snapshot],
      {
        kind: 'collapse-merge',
        mapping: [[fromHex(h.baseNode)!, fromHex(snapshot)!]],
        inputs: { base: fromHex(h.baseNode)!, head: fromHex(head)!, sws: fromHex(h.id)! },
        conflicts: [],
      },
      lamports,
    );
    rewrite = nodeId(rw);
    out.push(rw);
  }
  return { nodes: out, snapshot, rewrite, conflicts, merged };
}

export function treeOf(nodes: Nodes, snapshot: NodeId): NodeId {
  const p = nodes.get(snapshot).payload as { tree: Uint8Array };
  return Buffer.from(p.tree).toString('hex');
}

function lookupBlob(nodes: Nodes, tree: NodeId, path: string): NodeId | undefined {
  const e = lookup(nodes, tree, path);
  return e?.kind === 'blob' ? e.id : undefined;
}

/** A file at `path` fits `tree`: no ancestor is a file there and `path` is not a directory. */
function fitsShape(nodes: Nodes, tree: NodeId, path: string): boolean {
  for (const a of ancestors(path)) if (lookup(nodes, tree, a)?.kind === 'blob') return false;
  return lookup(nodes, tree, path)?.kind !== 'tree';
}
