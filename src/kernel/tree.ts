import { type CborValue, toHex } from '../codec/index.js';
import {
  type DagReader,
  type JitNode,
  type NodeId,
  nodeId,
  type TreeEntry,
  treeNode,
} from '../dag/index.js';

/**
 * Trees as the kernel reads and writes them. Reads walk only the directories a path passes
 * through; writes rebuild only the directories that hold a change and share every other subtree
 * (so a collapse costs what it changes, not the size of the tree).
 */

export type Entries = Map<string, TreeEntry>;

/** What tree code reads nodes through: the DAG, or the DAG plus nodes still in flight. */
export type Nodes = Pick<DagReader, 'get' | 'has'>;

export const EMPTY_TREE: JitNode = treeNode({});
export const EMPTY_TREE_ID: NodeId = nodeId(EMPTY_TREE);

// Decoded trees, by id. Content-addressed, so an entry can never go stale; bounded, cleared when full.
const treeCache = new Map<NodeId, Entries>();
const TREE_CACHE_MAX = 4096;

/** The entries of a tree node (a fresh Map: callers may change it). */
export function readTree(dag: Nodes, id: NodeId): Entries {
  return new Map(entriesOf(dag, id));
}

/** The cached entries of a tree node: shared, never to be changed. */
function entriesOf(dag: Nodes, id: NodeId): ReadonlyMap<string, TreeEntry> {
  let cached = treeCache.get(id);
  if (cached === undefined) {
    const payload = dag.get(id).payload as Record<string, Record<string, CborValue>>;
    cached = new Map();
    for (const [name, e] of Object.entries(payload)) {
      cached.set(name, { kind: e.kind as 'blob' | 'tree', id: toHex(e.id as Uint8Array) });
    }
    if (treeCache.size >= TREE_CACHE_MAX) treeCache.clear();
    treeCache.set(id, cached);
  }
  return cached;
}

/** What `path` is in the tree `root`: a blob, a tree, or nothing. */
export function lookup(dag: Nodes, root: NodeId, path: string): TreeEntry | undefined {
  let cur: TreeEntry = { kind: 'tree', id: root };
  for (const seg of path.split('/')) {
    if (cur.kind !== 'tree') return undefined;
    const next = entriesOf(dag, cur.id).get(seg);
    if (next === undefined) return undefined;
    cur = next;
  }
  return cur;
}

/** Every file under `root` (prefixed with `prefix/` when given), path → blob id, in path order. */
export function listFiles(dag: Nodes, root: NodeId, prefix = ''): Map<string, NodeId> {
  const out = new Map<string, NodeId>();
  const walk = (id: NodeId, at: string): void => {
    const entries = [...readTree(dag, id)].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [name, e] of entries) {
      const p = at === '' ? name : `${at}/${name}`;
      if (e.kind === 'blob') out.set(p, e.id);
      else walk(e.id, p);
    }
  };
  walk(root, prefix);
  return out;
}

/**
 * Files that differ between trees `a` and `b`: path → [id in a | null, id in b | null]. Identical
 * subtrees (same id) are skipped without being read.
 */
export function diffTrees(
  dag: Nodes,
  a: NodeId,
  b: NodeId,
): Map<string, [NodeId | null, NodeId | null]> {
  const out = new Map<string, [NodeId | null, NodeId | null]>();
  const files = (e: TreeEntry | undefined, p: string): Map<string, NodeId> => {
    if (e === undefined) return new Map();
    if (e.kind === 'blob') return new Map([[p, e.id]]);
    return listFiles(dag, e.id, p);
  };
  const walk = (x: NodeId | null, y: NodeId | null, at: string): void => {
    if (x === y) return;
    const ex = x === null ? new Map<string, TreeEntry>() : readTree(dag, x);
    const ey = y === null ? new Map<string, TreeEntry>() : readTree(dag, y);
    const names = [...new Set([...ex.keys(), ...ey.keys()])].sort();
    for (const name of names) {
      const p = at === '' ? name : `${at}/${name}`;
      const l = ex.get(name);
      const r = ey.get(name);
      if (l?.id === r?.id && l?.kind === r?.kind) continue;
      if (l?.kind === 'tree' && r?.kind === 'tree') {
        walk(l.id, r.id, p);
        continue;
      }
      const lf = files(l, p);
      const rf = files(r, p);
      for (const f of new Set([...lf.keys(), ...rf.keys()])) {
        const li = lf.get(f) ?? null;
        const ri = rf.get(f) ?? null;
        if (li !== ri) out.set(f, [li, ri]);
      }
    }
  };
  walk(a, b, '');
  return out;
}

/**
 * The tree `base` with `changes` applied (path → blob id, or null to remove). Returns the new
 * root id and the tree nodes to store, children before parents. Directories left empty vanish.
 * A path whose parent is a file in `base` replaces that file with a directory, and vice versa.
 */
export function buildTree(
  dag: Nodes,
  base: NodeId | null,
  changes: ReadonlyMap<string, NodeId | null>,
): { root: NodeId; nodes: JitNode[] } {
  const nodes: JitNode[] = [];
  const build = (id: NodeId | null, sub: Map<string, NodeId | null>): NodeId | null => {
    const entries: Entries = id === null ? new Map() : readTree(dag, id);
    const direct = new Map<string, NodeId | null>();
    const deeper = new Map<string, Map<string, NodeId | null>>();
    for (const [p, v] of sub) {
      const slash = p.indexOf('/');
      if (slash < 0) direct.set(p, v);
      else {
        const head = p.slice(0, slash);
        let m = deeper.get(head);
        if (m === undefined) {
          m = new Map();
          deeper.set(head, m);
        }
        m.set(p.slice(slash + 1), v);
      }
    }
    for (const [name, v] of direct) {
      if (v === null) entries.delete(name);
      else entries.set(name, { kind: 'blob', id: v });
    }
    for (const [name, m] of deeper) {
      const cur = entries.get(name);
      const child = build(cur?.kind === 'tree' ? cur.id : null, m);
      if (child === null) entries.delete(name);
      else entries.set(name, { kind: 'tree', id: child });
    }
    if (entries.size === 0) return null;
    const node = treeNode(Object.fromEntries(entries));
    const nid = nodeId(node);
    if (nid !== id) nodes.push(node);
    return nid;
  };
  const root = build(base, new Map(changes)) ?? EMPTY_TREE_ID;
  if (root === EMPTY_TREE_ID && !dag.has(EMPTY_TREE_ID)) nodes.push(EMPTY_TREE);
  return { root, nodes };
}
