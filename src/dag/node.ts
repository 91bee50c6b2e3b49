import {
  CborDecodeError,
  type CborValue,
  decode,
  encode,
  fromHex,
  isHashHex,
  toHex,
} from '../codec/index.js';
import { NodeFormatError } from './errors.js';

/** A NodeID: BLAKE3-256 of the node's canonical encoding, as 64 lowercase hex characters. */
export type NodeId = string;

/** The node types of DESIGN §3 (each documented in docs/INTERNALS.md). */
export const NODE_TYPES = ['root', 'blob', 'tree', 'snapshot', 'rewrite', 'provenance'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/**
 * A DAG node (DESIGN §3): `{type, parents, payload, meta}`. `parents` are sorted, unique NodeIDs;
 * `meta.lamport` is 1 + the largest parent lamport (the root's is 0). Nothing wall-clock or random
 * is part of a node; signatures travel beside it.
 */
export interface JitNode {
  readonly type: NodeType;
  readonly parents: readonly NodeId[];
  readonly payload: CborValue;
  readonly meta: { readonly lamport: number };
}

const typeSet = new Set<string>(NODE_TYPES);

/** The canonical bytes of a node; parents go on the wire as 32-byte byte strings. */
export function encodeNode(node: JitNode): Uint8Array {
  const parents: Uint8Array[] = [];
  for (const p of node.parents) {
    const b = isHashHex(p) ? fromHex(p) : undefined;
    if (b === undefined)
      throw new NodeFormatError('parents', `parent ${JSON.stringify(p)} is not a 64-hex NodeID`);
    parents.push(b);
  }
  return encode({
    type: node.type,
    parents,
    payload: node.payload,
    meta: { lamport: node.meta.lamport },
  });
}

/**
 * Decodes and shape-checks a node's canonical bytes (not its place in the DAG: see `Dag.prepare`).
 * Throws NodeFormatError (with the CborDecodeError as cause for non-canonical bytes).
 */
export function decodeNode(bytes: Uint8Array): JitNode {
  let v: CborValue;
  try {
    v = decode(bytes);
  } catch (e) {
    if (e instanceof CborDecodeError)
      throw new NodeFormatError('bytes', `not canonical CBOR: ${e.message}`, { cause: e });
    throw e;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw new NodeFormatError('bytes', 'a node is a map {type, parents, payload, meta}');
  }
  const m = v as Record<string, CborValue>;
  const keys = Object.keys(m);
  if (keys.length !== 4 || !('type' in m && 'parents' in m && 'payload' in m && 'meta' in m)) {
    throw new NodeFormatError(
      'bytes',
      `a node has exactly the keys type, parents, payload, meta (got ${keys.join(', ')})`,
    );
  }
  const type = m.type;
  if (typeof type !== 'string' || !typeSet.has(type)) {
    throw new NodeFormatError('type', `unknown node type ${JSON.stringify(type)}`);
  }
  const rawParents = m.parents;
  if (!Array.isArray(rawParents))
    throw new NodeFormatError('parents', 'parents is an array of 32-byte ids');
  const parents: NodeId[] = [];
  for (const p of rawParents as CborValue[]) {
    if (!(p instanceof Uint8Array) || p.length !== 32)
      throw new NodeFormatError('parents', 'each parent is a 32-byte id');
    parents.push(toHex(p));
  }
  const meta = m.meta;
  if (
    meta === null ||
    typeof meta !== 'object' ||
    Array.isArray(meta) ||
    meta instanceof Uint8Array
  ) {
    throw new NodeFormatError('meta', 'meta is a map {lamport}');
  }
  const metaMap = meta as Record<string, CborValue>;
  const metaKeys = Object.keys(metaMap);
  if (metaKeys.length !== 1 || metaKeys[0] !== 'lamport') {
    throw new NodeFormatError('meta', `meta holds exactly {lamport} (got ${metaKeys.join(', ')})`);
  }
  const lamport = metaMap.lamport;
  if (
    typeof lamport !== 'number' ||
    !Number.isInteger(lamport) ||
    lamport < 0 ||
    lamport > 0xffff_ffff
  ) {
    throw new NodeFormatError('meta.lamport', 'lamport is an integer in [0, 2^32)');
  }
  return { type: type as NodeType, parents, payload: m.payload as CborValue, meta: { lamport } };
}
