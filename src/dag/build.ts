import { allocBytes, blake3Hex, type CborValue, encodeHead, fromHex } from '../codec/index.js';
import { encodeNode, type JitNode, type NodeId, type NodeType } from './node.js';

export { nodeId } from './node.js';

import { ROOT_NODE } from './types.js';

/** The canonical bytes and id of the root node: the same in every JIT universe. */
export const ROOT_BYTES: Uint8Array = encodeNode(ROOT_NODE);
export const ROOT_ID: NodeId = blake3Hex(ROOT_BYTES);

/** The parents of every blob and tree: shared, and frozen so no node can change them. */
export const ROOT_PARENTS: readonly NodeId[] = Object.freeze([ROOT_ID]);
/** `ROOT_PARENTS` as bytes (read only: `Dag.prepare` hands it on for every blob and tree). */
export const ROOT_PARENT_BYTES: readonly Uint8Array[] = Object.freeze([fromHex(ROOT_ID)!]);

export interface TreeEntry {
  readonly kind: 'blob' | 'tree';
  readonly id: NodeId;
}

/** A node with `parents` sorted and de-duplicated and `meta.lamport` = 1 + max(parent lamports). */
export function makeNode(
  type: NodeType,
  parents: readonly NodeId[],
  payload: CborValue,
  lamportOf: (id: NodeId) => number,
): JitNode {
  const ps = [...new Set(parents)].sort();
  let max = -1;
  for (const p of ps) max = Math.max(max, lamportOf(p));
  return { type, parents: ps, payload, meta: { lamport: max + 1 } };
}

export function blobNode(content: Uint8Array): JitNode {
  return { type: 'blob', parents: ROOT_PARENTS, payload: content, meta: { lamport: 1 } };
}

// A blob's encoding is a fixed prefix, the content's byte-string head, then the content: its
// payload key sorts last. The prefix is what an empty blob encodes to, less its 0x40 head.
const EMPTY_BLOB = encodeNode(blobNode(new Uint8Array(0)));
const BLOB_PREFIX = EMPTY_BLOB.slice(0, EMPTY_BLOB.length - 1);

/**
 * `encodeNode(blobNode(content))`, written straight into one array: the kernel encodes a blob per
 * `put`, and the general encoder's map and key work is the same every time (test/dag/build.test.ts
 * checks the two agree).
 */
export function encodeBlob(content: Uint8Array): Uint8Array {
  const head = encodeHead(2, content.length);
  const out = allocBytes(BLOB_PREFIX.length + head.length + content.length);
  out.set(BLOB_PREFIX);
  out.set(head, BLOB_PREFIX.length);
  out.set(content, BLOB_PREFIX.length + head.length);
  return out;
}

export function treeNode(entries: Readonly<Record<string, TreeEntry>>): JitNode {
  const payload: Record<string, CborValue> = {};
  for (const [name, e] of Object.entries(entries))
    payload[name] = { kind: e.kind, id: fromHex(e.id)! };
  return { type: 'tree', parents: ROOT_PARENTS, payload, meta: { lamport: 1 } };
}
