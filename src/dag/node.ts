import {
  blake3Stream,
  CborDecodeError,
  type CborValue,
  decode,
  encode,
  encodeTo,
  fromHex,
  isHashHex,
  toHex,
} from '../codec/index.js';
import { describeValue } from '../errors/index.js';
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

/** The CBOR value of a node as it is encoded: parents as 32-byte byte strings. */
function nodeValue(node: JitNode): CborValue {
  const parents: Uint8Array[] = [];
  for (const p of node.parents) {
    const b = isHashHex(p) ? fromHex(p) : undefined;
    if (b === undefined) {
      throw new NodeFormatError('parents', `parent ${describeValue(p)} is not a 64-hex NodeID`);
    }
    parents.push(b);
  }
  return { type: node.type, parents, payload: node.payload, meta: { lamport: node.meta.lamport } };
}

/** The canonical bytes of a node. */
export function encodeNode(node: JitNode): Uint8Array {
  return encode(nodeValue(node));
}

/** The NodeID of a node: BLAKE3 of its canonical bytes, streamed so content is never copied. */
export function nodeId(node: JitNode): NodeId {
  return toHex(blake3Stream((update) => encodeTo(nodeValue(node), update)));
}

/**
 * Decodes and shape-checks a node's canonical bytes (not its place in the DAG: see `Dag.prepare`).
 * Throws NodeFormatError (with the CborDecodeError as cause for non-canonical bytes).
 */
export function decodeNode(bytes: Uint8Array): JitNode {
  return toJitNode(decodeRawNode(bytes));
}

/** A decoded node with its parents as the 32-byte ids they are on the wire (no hex). */
export interface RawNode {
  readonly type: NodeType;
  readonly parentBytes: readonly Uint8Array[];
  readonly payload: CborValue;
  readonly lamport: number;
}

export function toJitNode(r: RawNode): JitNode {
  return {
    type: r.type,
    parents: r.parentBytes.map(toHex),
    payload: r.payload,
    meta: { lamport: r.lamport },
  };
}

function badMap(v: CborValue | undefined): boolean {
  return v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array;
}

/** As `decodeNode`, without turning parents into text: the form replay and checks work on. */
export function decodeRawNode(bytes: Uint8Array): RawNode {
  let v: CborValue;
  try {
    v = decode(bytes);
  } catch (e) {
    if (e instanceof CborDecodeError) {
      throw new NodeFormatError('bytes', `not canonical CBOR: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (badMap(v))
    throw new NodeFormatError('bytes', 'a node is a map {type, parents, payload, meta}');
  const m = v as Record<string, CborValue>;
  let count = 0;
  for (const k in m) {
    count++;
    if (k !== 'type' && k !== 'parents' && k !== 'payload' && k !== 'meta') count = -100;
  }
  if (count !== 4) {
    throw new NodeFormatError(
      'bytes',
      `a node has exactly the keys type, parents, payload, meta (got ${Object.keys(m).join(', ')})`,
    );
  }
  const type = m.type;
  if (typeof type !== 'string' || !typeSet.has(type)) {
    throw new NodeFormatError('type', `unknown node type ${describeValue(type)}`);
  }
  const parentBytes = m.parents;
  if (!Array.isArray(parentBytes))
    throw new NodeFormatError('parents', 'parents is an array of 32-byte ids');
  for (const p of parentBytes as CborValue[]) {
    if (!(p instanceof Uint8Array) || p.length !== 32)
      throw new NodeFormatError('parents', 'each parent is a 32-byte id');
  }
  const meta = m.meta;
  if (badMap(meta)) throw new NodeFormatError('meta', 'meta is a map {lamport}');
  const metaMap = meta as Record<string, CborValue>;
  let metaCount = 0;
  for (const _ in metaMap) metaCount++;
  const lamport = metaMap.lamport;
  if (metaCount !== 1 || lamport === undefined) {
    throw new NodeFormatError(
      'meta',
      `meta holds exactly {lamport} (got ${Object.keys(metaMap).join(', ')})`,
    );
  }
  if (
    typeof lamport !== 'number' ||
    !Number.isInteger(lamport) ||
    lamport < 0 ||
    lamport > 0xffff_ffff
  ) {
    throw new NodeFormatError('meta.lamport', 'lamport is an integer in [0, 2^32)');
  }
  return {
    type: type as NodeType,
    parentBytes: parentBytes as Uint8Array[],
    payload: m.payload as CborValue,
    lamport,
  };
}
