import { blake3Hex, type CborValue, fromHex } from '../codec/index.js';
import { encodeNode, type JitNode, type NodeId, type NodeType } from './node.js';

export { nodeId } from './node.js';

import { ROOT_NODE } from './types.js';

/** The canonical bytes and id of the root node: the same in every JIT universe. */
export const ROOT_BYTES: Uint8Array = encodeNode(ROOT_NODE);
export const ROOT_ID: NodeId = blake3Hex(ROOT_BYTES);

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
  return { type: 'blob', parents: [ROOT_ID], payload: content, meta: { lamport: 1 } };
}

export function treeNode(entries: Readonly<Record<string, TreeEntry>>): JitNode {
  const payload: Record<string, CborValue> = {};
  for (const [name, e] of Object.entries(entries))
    payload[name] = { kind: e.kind, id: fromHex(e.id)! };
  return { type: 'tree', parents: [ROOT_ID], payload, meta: { lamport: 1 } };
}
