import {
  blake3,
  blake3Hex,
  compareEncodedKeys,
  fromHex,
  isHashHex,
  toHex,
} from '../codec/index.js';
import { ROOT_PARENT_BYTES, ROOT_PARENTS } from './build.js';
import {
  Invariant,
  InvariantViolationError,
  NodeFormatError,
  NodeNotFoundError,
} from './errors.js';
import {
  decodeNode,
  decodeRawNode,
  type JitNode,
  type NodeId,
  type NodeType,
  type RawNode,
  toJitNode,
} from './node.js';
import { NodeIndex } from './node-index.js';
import { TYPE_BY_CODE, TYPE_RULES } from './types.js';

/** Where node bytes live (memory, WAL segments); the index keeps only their location. */
export interface NodeSource {
  read(loc: number, len: number): Uint8Array;
}

/** A node checked against the DAG and ready to be made durable and applied. */
export interface PreparedNode {
  readonly id: NodeId;
  readonly idBytes: Uint8Array;
  readonly bytes: Uint8Array;
  readonly node: JitNode;
  readonly parentBytes: readonly Uint8Array[];
  /** Already in the DAG (or earlier in the same batch): applying it is a no-op. */
  readonly exists: boolean;
}

/** A node admitted to the log but not applied yet: what a later batch may build on. */
export interface AdmittedNode {
  readonly type: NodeType;
  readonly lamport: number;
}

export interface NodeInfo {
  readonly type: NodeType;
  readonly lamport: number;
  readonly hasChildren: boolean;
}

export interface Edge {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly kind: 'parent' | 'ref';
}

/**
 * The read side of the DAG. This is all that shadow working sets and agents are ever handed
 * (invariant 8: shadows cannot mutate the universe).
 */
export interface DagReader {
  readonly size: number;
  has(id: NodeId): boolean;
  get(id: NodeId): JitNode;
  getBytes(id: NodeId): Uint8Array;
  info(id: NodeId): NodeInfo;
  parents(id: NodeId): readonly NodeId[];
  lineage(id: NodeId, depth?: number): NodeId[];
  subgraph(id: NodeId, limit?: number): { nodes: NodeId[]; edges: Edge[] };
  frontier(): NodeId[];
  digest(): string;
  isAncestor(a: NodeId, b: NodeId): boolean;
}

const EMPTY: ReadonlyMap<NodeId, AdmittedNode> = new Map();
const NO_PENDING = new Map<NodeId, AdmittedNode>();
const NO_LATER = new Set<NodeId>();

function idBytesOf(id: NodeId): Uint8Array {
  const b = isHashHex(id) ? fromHex(id) : undefined;
  if (b === undefined) throw new NodeNotFoundError(String(id));
  return b;
}

/**
 * The content-addressed causal DAG (DESIGN §3, RFC-0002). Writes are two-phase so the durable store
 * can log before it applies: `prepare` checks a batch against every invariant without changing
 * anything, `apply` inserts a prepared batch. Nothing is ever removed or changed.
 */
export class Dag implements DagReader {
  readonly index: NodeIndex;
  private readonly source: NodeSource;

  constructor(source: NodeSource, index: NodeIndex = new NodeIndex()) {
    this.source = source;
    this.index = index;
  }

  get size(): number {
    return this.index.size;
  }

  /**
   * Checks a batch of canonical node encodings, in order; a node may have parents earlier in the
   * batch. `claimed` ids (nodes received from elsewhere) must match the content. Throws the first
   * violation (NodeFormatError, InvariantViolationError); a failed batch changes nothing.
   */
  prepare(
    batch: readonly Uint8Array[],
    claimed?: readonly NodeId[],
    admitted?: ReadonlyMap<NodeId, AdmittedNode>,
    /**
     * For nodes the caller built itself: `known[i]` is the node whose canonical encoding is
     * `batch[i]`, and its id. Saves hashing and decoding them again; every check still runs.
     */
    known?: readonly {
      readonly node: JitNode;
      readonly idBytes: Uint8Array;
      readonly id?: NodeId;
    }[],
  ): PreparedNode[] {
    const pending = new Map<NodeId, AdmittedNode>();
    const outer = admitted ?? EMPTY;
    const idBytesAll = batch.map((b, i) => known?.[i]?.idBytes ?? blake3(b));
    const ids = idBytesAll.map((b, i) => known?.[i]?.id ?? toHex(b));
    const laterInBatch = new Set<NodeId>(ids);
    const out: PreparedNode[] = [];
    for (let i = 0; i < batch.length; i++) {
      const bytes = batch[i]!;
      const idBytes = idBytesAll[i]!;
      const id = ids[i]!;
      laterInBatch.delete(id);
      const k = known?.[i];
      const raw: RawNode =
        k === undefined
          ? decodeRawNode(bytes)
          : {
              type: k.node.type,
              parentBytes:
                k.node.parents === ROOT_PARENTS
                  ? ROOT_PARENT_BYTES
                  : k.node.parents.map((p) => fromHex(p)!),
              payload: k.node.payload,
              lamport: k.node.meta.lamport,
            };
      const node = k?.node ?? toJitNode(raw);
      if (claimed !== undefined) {
        const c = claimed[i];
        if (node.parents.includes(c ?? '')) {
          throw new InvariantViolationError(
            Invariant.ACYCLICITY,
            `node ${c} names itself as a parent`,
            { id: c ?? '' },
          );
        }
        if (c !== id) {
          throw new InvariantViolationError(
            Invariant.IMMUTABILITY,
            `content hashes to ${id}, not the claimed ${c}`,
            {
              id: c ?? '',
            },
          );
        }
      }
      const exists = pending.has(id) || outer.has(id) || this.index.has(idBytes);
      if (!exists) {
        const lamport = this.check(raw, idBytes, pending, outer, laterInBatch);
        pending.set(id, { type: node.type, lamport });
      }
      out.push({ id, idBytes, bytes, node, parentBytes: raw.parentBytes, exists });
    }
    return out;
  }

  private lookupBytes(id: Uint8Array): AdmittedNode | undefined {
    const e = this.index.get(id);
    return e === undefined ? undefined : { type: TYPE_BY_CODE[e.typeCode]!, lamport: e.lamport };
  }

  private lookup(
    id: NodeId,
    pending: Map<NodeId, AdmittedNode>,
    outer: ReadonlyMap<NodeId, AdmittedNode>,
  ): AdmittedNode | undefined {
    const p = pending.get(id) ?? outer.get(id);
    if (p !== undefined) return p;
    const e = this.index.get(fromHex(id)!);
    if (e === undefined) return undefined;
    return { type: TYPE_BY_CODE[e.typeCode]!, lamport: e.lamport };
  }

  /** Checks one new node; returns its lamport. Text forms of ids are made only for errors. */
  private check(
    node: RawNode,
    idBytes: Uint8Array,
    pending: Map<NodeId, AdmittedNode>,
    outer: ReadonlyMap<NodeId, AdmittedNode>,
    laterInBatch: Set<NodeId>,
  ): number {
    const rule = TYPE_RULES[node.type];
    const parents = node.parentBytes;
    const id = (): NodeId => toHex(idBytes);
    const local = pending.size === 0 && outer.size === 0;
    for (let i = 1; i < parents.length; i++) {
      if (compareEncodedKeys(parents[i - 1]!, parents[i]!) >= 0) {
        throw new InvariantViolationError(
          Invariant.PARENT_CANONICALIZATION,
          'parents must be sorted by NodeID and unique',
          {
            id: id(),
          },
        );
      }
    }
    if (rule.parentTypes.length > 0 && parents.length === 0) {
      throw new InvariantViolationError(
        Invariant.SINGLE_UNIVERSE,
        `a ${node.type} node without parents would start a second universe; only the root has none`,
        { id: id() },
      );
    }
    if (rule.parentCount !== undefined && parents.length !== rule.parentCount) {
      throw new NodeFormatError(
        'parents',
        `a ${node.type} node has exactly ${rule.parentCount} parent(s), not ${parents.length}`,
      );
    }
    let maxLamport = -1;
    for (const pb of parents) {
      // the durable index by bytes first (the common case); hex only to consult what is in flight
      const info =
        this.lookupBytes(pb) ?? (local ? undefined : this.lookup(toHex(pb), pending, outer));
      if (info === undefined) {
        const p = toHex(pb);
        if (laterInBatch.has(p)) {
          throw new InvariantViolationError(
            Invariant.ACYCLICITY,
            `parent ${p} comes after its child; parents must precede children`,
            {
              id: id(),
              parent: p,
            },
          );
        }
        throw new InvariantViolationError(
          Invariant.CAUSAL_COMPLETENESS,
          `parent ${p} is not in the DAG`,
          { id: id(), parent: p },
        );
      }
      if (!rule.parentTypes.includes(info.type)) {
        throw new NodeFormatError(
          'parents',
          `a ${node.type} node cannot have a ${info.type} parent (${toHex(pb)})`,
        );
      }
      if (info.lamport > maxLamport) maxLamport = info.lamport;
    }
    const want = maxLamport + 1;
    if (node.lamport !== want) {
      throw new InvariantViolationError(
        Invariant.LAMPORT_ORDERING,
        `lamport is ${node.lamport} but must be 1 + max(parent lamports) = ${want}`,
        { id: id() },
      );
    }
    for (const ref of rule.refs(node.payload)) {
      const info = this.lookup(ref.id, pending, outer);
      if (info === undefined) {
        const inv =
          node.type === 'rewrite' ? Invariant.REWRITES_CREATE : Invariant.CAUSAL_COMPLETENESS;
        throw new InvariantViolationError(
          inv,
          `${ref.field} refers to ${ref.id}, which is not in the DAG`,
          { id: id(), ref: ref.id },
        );
      }
      if (!ref.types.includes(info.type)) {
        throw new NodeFormatError(
          ref.field,
          `refers to a ${info.type} node where a ${ref.types.join(' or ')} is required`,
        );
      }
    }
    return want;
  }

  /**
   * Replays one node record from the log: the checks of `prepare` and the insert of `apply` in one
   * step, without batch bookkeeping (boot replays millions of these). A node already present is a
   * no-op.
   */
  applyLogged(bytes: Uint8Array, loc: number): void {
    const idBytes = blake3(bytes);
    if (this.index.has(idBytes)) return;
    const raw = decodeRawNode(bytes);
    const lamport = this.check(raw, idBytes, NO_PENDING, EMPTY, NO_LATER);
    this.index.insert(idBytes, TYPE_RULES[raw.type].code, lamport, loc, bytes.length);
    for (const parent of raw.parentBytes) this.index.markHasChildren(parent);
  }

  /**
   * Inserts a prepared batch; `locs[i]` is where the source keeps `prepared[i]`'s bytes. Nodes
   * marked `exists` are skipped. Must follow `prepare` with no other write in between.
   */
  apply(prepared: readonly PreparedNode[], locs: readonly number[]): void {
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      if (p.exists || this.index.has(p.idBytes)) continue;
      const rule = TYPE_RULES[p.node.type];
      this.index.insert(p.idBytes, rule.code, p.node.meta.lamport, locs[i]!, p.bytes.length);
      for (const parent of p.parentBytes) this.index.markHasChildren(parent);
    }
  }

  has(id: NodeId): boolean {
    const b = isHashHex(id) ? fromHex(id) : undefined;
    return b !== undefined && this.index.has(b);
  }

  getBytes(id: NodeId): Uint8Array {
    const e = this.index.get(idBytesOf(id));
    if (e === undefined) throw new NodeNotFoundError(id);
    return this.source.read(e.loc, e.len);
  }

  /** A fresh decoded copy on every call: mutating it changes nothing stored (invariant 3). */
  get(id: NodeId): JitNode {
    return decodeNode(this.getBytes(id));
  }

  info(id: NodeId): NodeInfo {
    const e = this.index.get(idBytesOf(id));
    if (e === undefined) throw new NodeNotFoundError(id);
    return { type: TYPE_BY_CODE[e.typeCode]!, lamport: e.lamport, hasChildren: e.hasChildren };
  }

  parents(id: NodeId): readonly NodeId[] {
    return this.get(id).parents;
  }

  /** Ancestors of `id` (not itself), nearest first, each generation sorted by id; at most `depth` generations. */
  lineage(id: NodeId, depth = Number.POSITIVE_INFINITY): NodeId[] {
    const seen = new Set<NodeId>([id]);
    const out: NodeId[] = [];
    let level = [...this.parents(id)];
    for (let d = 0; d < depth && level.length > 0; d++) {
      const next: NodeId[] = [];
      for (const p of level.sort()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push(p);
        next.push(...this.parents(p));
      }
      level = next;
    }
    return out;
  }

  /** The nodes `node` depends on: its parents, then its payload references. */
  private deps(node: JitNode): { to: NodeId; kind: 'parent' | 'ref' }[] {
    const out: { to: NodeId; kind: 'parent' | 'ref' }[] = node.parents.map((to) => ({
      to,
      kind: 'parent' as const,
    }));
    for (const r of TYPE_RULES[node.type].refs(node.payload)) out.push({ to: r.id, kind: 'ref' });
    return out;
  }

  /**
   * The closure of `id` over parents and payload references: everything needed to rebuild it
   * elsewhere, at most `limit` nodes. Nodes come in a deterministic topological order (every node
   * after all it depends on; ties broken by id), so they can be put in that order.
   */
  subgraph(id: NodeId, limit = Number.POSITIVE_INFINITY): { nodes: NodeId[]; edges: Edge[] } {
    if (!this.has(id)) throw new NodeNotFoundError(id);
    const deps = new Map<NodeId, { to: NodeId; kind: 'parent' | 'ref' }[]>();
    const queue = [id];
    for (let q = 0; q < queue.length && deps.size < limit; q++) {
      const cur = queue[q]!;
      if (deps.has(cur)) continue;
      const d = this.deps(this.get(cur));
      deps.set(cur, d);
      for (const x of d) if (!deps.has(x.to)) queue.push(x.to);
    }
    // iterative depth-first post-order, dependencies visited in id order
    const nodes: NodeId[] = [];
    const done = new Set<NodeId>();
    const stack: { id: NodeId; next: NodeId[] }[] = [];
    const push = (n: NodeId): void => {
      const next = [...new Set((deps.get(n) ?? []).map((x) => x.to))]
        .filter((x) => deps.has(x))
        .sort()
        .reverse();
      stack.push({ id: n, next });
    };
    push(id);
    done.add(id);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const n = top.next.pop();
      if (n === undefined) {
        stack.pop();
        nodes.push(top.id);
      } else if (!done.has(n)) {
        done.add(n);
        push(n);
      }
    }
    const edges: Edge[] = [];
    for (const n of nodes)
      for (const x of deps.get(n)!)
        if (deps.has(x.to)) edges.push({ from: n, to: x.to, kind: x.kind });
    return { nodes, edges };
  }

  /**
   * Is `a` an ancestor of `b` (or `b` itself)? Walks back from `b` only through nodes whose
   * lamport is above `a`'s, so the cost is the history between the two, not all of it.
   */
  isAncestor(a: NodeId, b: NodeId): boolean {
    if (a === b) return true;
    const floor = this.info(a).lamport;
    const seen = new Set<NodeId>([b]);
    const stack = [b];
    while (stack.length > 0) {
      for (const p of this.parents(stack.pop()!)) {
        if (p === a) return true;
        if (seen.has(p) || this.info(p).lamport <= floor) continue;
        seen.add(p);
        stack.push(p);
      }
    }
    return false;
  }

  /** The nodes nothing names as a parent, sorted by id. */
  frontier(): NodeId[] {
    const out: NodeId[] = [];
    this.index.forEach((id, e) => {
      if (!e.hasChildren) out.push(toHex(id));
    });
    return out.sort();
  }

  /** BLAKE3 over every NodeID in sorted order: equal exactly when two DAGs hold the same nodes. */
  digest(): string {
    const ids: Buffer[] = [];
    this.index.forEach((id) => {
      ids.push(Buffer.from(id));
    });
    ids.sort(Buffer.compare);
    return blake3Hex(Buffer.concat([Buffer.from(`jit-dag-digest-v1:${ids.length}:`), ...ids]));
  }

  private view: DagReader | undefined;

  /** A view with no way to write (invariant 8). One object, made once. */
  reader(): DagReader {
    if (this.view !== undefined) return this.view;
    const self = this;
    this.view = Object.freeze({
      get size() {
        return self.size;
      },
      has: (id: NodeId) => self.has(id),
      get: (id: NodeId) => self.get(id),
      getBytes: (id: NodeId) => self.getBytes(id),
      info: (id: NodeId) => self.info(id),
      parents: (id: NodeId) => self.parents(id),
      lineage: (id: NodeId, depth?: number) => self.lineage(id, depth),
      subgraph: (id: NodeId, limit?: number) => self.subgraph(id, limit),
      frontier: () => self.frontier(),
      digest: () => self.digest(),
      isAncestor: (a: NodeId, b: NodeId) => self.isAncestor(a, b),
    });
    return this.view;
  }
}
