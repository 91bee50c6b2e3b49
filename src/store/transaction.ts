import { blake3 } from '../codec/index.js';
import {
  type AdmittedNode,
  type Dag,
  encodeNode,
  type JitNode,
  type NodeId,
  type NodeType,
  type PreparedNode,
} from '../dag/index.js';
import { type WalEntry, WalOp, type WalOpNumber } from '../wal/index.js';
import { checkRefUpdate, encodeRefUpdate, type Ref, type RefLink, type RefUpdate } from './refs.js';

/** A node with its canonical bytes and id, computed by the caller. */
export interface KnownNode {
  readonly node: JitNode;
  readonly bytes: Uint8Array;
  readonly idBytes: Uint8Array;
  /** `idBytes` as text, when the caller has it already. */
  readonly id?: NodeId;
}

/** What a transaction may add; each call is checked against the admitted state at once. */
export interface Tx {
  /** Adds nodes (canonical bytes); earlier nodes of the same transaction count as present. */
  putNodes(batch: readonly Uint8Array[]): NodeId[];
  put(nodes: readonly JitNode[]): NodeId[];
  /** As `put`, for nodes the caller already encoded and hashed (bytes = encodeNode(node), id = BLAKE3(bytes)). */
  putKnown(items: readonly KnownNode[]): NodeId[];
  /**
   * Adds a ref update; returns the ref after it (null: deleted). An update to the current target
   * adds nothing, unless `link` names the SWS a collapse came from (then the record is the commit
   * marker of that collapse).
   */
  setRef(u: RefUpdate, link?: RefLink): Ref | null;
  /** Adds a record of an op the store does not own (SWS_*, SYNC_EVENT). */
  record(op: WalOpNumber, payload: Uint8Array): void;
  typeOf(id: NodeId): NodeType | undefined;
  ref(name: string): Ref | undefined;
}

/**
 * What is admitted to the log and not yet applied: nodes and ref updates in flight, each counted
 * per admission, so that later transactions build on them before they are durable.
 */
export class Admitted {
  readonly nodes = new Map<NodeId, AdmittedNode & { count: number }>();
  readonly refs = new Map<string, { ref: Ref | null; count: number }>();
  private readonly dag: Dag;
  private readonly refTable: ReadonlyMap<string, Ref>;

  constructor(dag: Dag, refTable: ReadonlyMap<string, Ref>) {
    this.dag = dag;
    this.refTable = refTable;
  }

  /** One admission of a node ends (applied, or undone). */
  releaseNode(id: NodeId): void {
    const a = this.nodes.get(id);
    if (a !== undefined && --a.count === 0) this.nodes.delete(id);
  }

  /** One admission of a ref update ends (applied). */
  releaseRef(name: string): void {
    const slot = this.refs.get(name)!;
    if (--slot.count === 0) this.refs.delete(name);
  }

  /** The ref as admitted (in-flight updates included). */
  ref(name: string): Ref | undefined {
    const a = this.refs.get(name);
    if (a !== undefined) return a.ref ?? undefined;
    return this.refTable.get(name);
  }

  /** The type of a node, applied or admitted. */
  type(id: NodeId): NodeType | undefined {
    const a = this.nodes.get(id);
    if (a !== undefined) return a.type;
    return this.dag.has(id) ? this.dag.info(id).type : undefined;
  }
}

/**
 * One transaction of `Store.transact`: what it adds (log entries, prepared nodes, ref updates),
 * each checked against the admitted state as it is added and admitted at once, and how to take
 * it all back if the transaction fails. One object per transaction (it runs per kernel command).
 */
export class Transaction implements Tx {
  readonly entries: WalEntry[] = [];
  readonly nodes: { readonly prepared: PreparedNode; readonly entry: number }[] = [];
  readonly refs: { readonly name: string; readonly next: Ref | null; readonly entry: number }[] =
    [];
  /** Ref slots as they were before each update (undone newest first). */
  private readonly refsBefore: {
    readonly name: string;
    readonly before: { ref: Ref | null; count: number } | undefined;
  }[] = [];
  private readonly dag: Dag;
  private readonly admitted: Admitted;

  constructor(dag: Dag, admitted: Admitted) {
    this.dag = dag;
    this.admitted = admitted;
  }

  putNodes(batch: readonly Uint8Array[]): NodeId[] {
    return this.admit(this.dag.prepare(batch, undefined, this.admitted.nodes));
  }

  put(list: readonly JitNode[]): NodeId[] {
    return this.putKnown(
      list.map((node) => {
        const bytes = encodeNode(node);
        return { node, bytes, idBytes: blake3(bytes) };
      }),
    );
  }

  putKnown(items: readonly KnownNode[]): NodeId[] {
    const bytes = items.map((k) => k.bytes);
    return this.admit(this.dag.prepare(bytes, undefined, this.admitted.nodes, items));
  }

  setRef(u: RefUpdate, link?: RefLink): Ref | null {
    const a = this.admitted;
    const cur = a.ref(u.name);
    const next = checkRefUpdate(u, cur, (id) => a.type(id));
    if (next !== null && cur !== undefined && cur.target === next.target && link === undefined)
      return cur;
    const slot = a.refs.get(u.name);
    this.refsBefore.push({ name: u.name, before: slot ? { ...slot } : undefined });
    if (slot) {
      slot.ref = next;
      slot.count++;
    } else a.refs.set(u.name, { ref: next, count: 1 });
    this.refs.push({ name: u.name, next, entry: this.entries.length });
    this.entries.push({
      op: WalOp.SET_REF,
      payload: encodeRefUpdate({ name: u.name, kind: u.kind, target: u.target }, link),
    });
    return next;
  }

  record(op: WalOpNumber, payload: Uint8Array): void {
    this.entries.push({ op, payload });
  }

  typeOf(id: NodeId): NodeType | undefined {
    return this.admitted.type(id);
  }

  ref(name: string): Ref | undefined {
    return this.admitted.ref(name);
  }

  /** Takes back every admission this transaction made (it failed, or the log refused it). */
  undo(): void {
    const a = this.admitted;
    for (let i = this.refsBefore.length - 1; i >= 0; i--) {
      const { name, before } = this.refsBefore[i]!;
      if (before) a.refs.set(name, before);
      else a.refs.delete(name);
    }
    for (const n of this.nodes) a.releaseNode(n.prepared.id);
  }

  private admit(prepared: readonly PreparedNode[]): NodeId[] {
    const a = this.admitted;
    const ids: NodeId[] = [];
    for (const p of prepared) {
      ids.push(p.id);
      if (p.exists) continue;
      const n = a.nodes.get(p.id);
      if (n) n.count++;
      else a.nodes.set(p.id, { type: p.node.type, lamport: p.node.meta.lamport, count: 1 });
      this.nodes.push({ prepared: p, entry: this.entries.length });
      this.entries.push({ op: WalOp.CREATE_NODE, payload: p.bytes });
    }
    return ids;
  }
}
