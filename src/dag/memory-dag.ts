import { ROOT_BYTES } from './build.js';
import { Dag } from './dag.js';
import { MemoryNodeSource } from './memory-source.js';
import { encodeNode, type JitNode, type NodeId } from './node.js';

/** A DAG held in memory, with the root already in it, and a one-step `put`. */
export class MemoryDag extends Dag {
  private readonly mem: MemoryNodeSource;

  constructor() {
    const mem = new MemoryNodeSource();
    super(mem);
    this.mem = mem;
    this.putBytes([ROOT_BYTES]);
  }

  /** Checks and inserts nodes in order; returns their ids. All or nothing. */
  put(...nodes: JitNode[]): NodeId[] {
    return this.putBytes(nodes.map(encodeNode));
  }

  putBytes(batch: readonly Uint8Array[], claimed?: readonly NodeId[]): NodeId[] {
    const prepared = this.prepare(batch, claimed);
    const locs = prepared.map((p) => (p.exists ? -1 : this.mem.add(p.bytes)));
    this.apply(prepared, locs);
    return prepared.map((p) => p.id);
  }
}
