/**
 * @module dag — the content-addressed causal DAG (DESIGN §3, RFC-0001/0002): node model and types,
 * NodeIDs, the twelve invariants enforced at every write, and the compact in-memory index.
 */
export {
  blobNode,
  encodeBlob,
  makeNode,
  nodeId,
  ROOT_BYTES,
  ROOT_ID,
  type TreeEntry,
  treeNode,
} from './build.js';
export {
  type AdmittedNode,
  Dag,
  type DagReader,
  type Edge,
  type NodeInfo,
  type NodeSource,
  type PreparedNode,
} from './dag.js';
export {
  IndexSnapshotOpenError,
  Invariant,
  type InvariantNumber,
  InvariantViolationError,
  NodeFormatError,
  NodeNotFoundError,
} from './errors.js';
export { MemoryDag } from './memory-dag.js';
export { MemoryNodeSource } from './memory-source.js';
export {
  decodeNode,
  decodeRawNode,
  encodeNode,
  type JitNode,
  NODE_TYPES,
  type NodeId,
  type NodeType,
  type RawNode,
  toJitNode,
} from './node.js';
export { type IndexEntry, type IndexSnapshot, NodeIndex } from './node-index.js';
export {
  checkEntryName,
  type Reference,
  ROOT_NODE,
  TYPE_BY_CODE,
  TYPE_RULES,
  type TypeRule,
} from './types.js';
