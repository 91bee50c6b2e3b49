import { type CborValue, toHex } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import { NodeFormatError } from './errors.js';
import type { JitNode, NodeId, NodeType } from './node.js';

/**
 * What each node type may hold (DESIGN §3, docs/INTERNALS.md §Node types). A rule checks the
 * payload's shape and names the nodes it refers to, which must already exist with the given types.
 */
export interface Reference {
  readonly id: NodeId;
  readonly types: readonly NodeType[];
  readonly field: string;
}

export interface TypeRule {
  /** Small stable number used in the in-memory index and checkpoints (never on the wire). */
  readonly code: number;
  /** The types a parent may have; an empty list means the node has no parents (the root). */
  readonly parentTypes: readonly NodeType[];
  /** Exact parent count, when the type fixes it. */
  readonly parentCount?: number;
  refs(payload: CborValue): Reference[];
}

type Map_ = Record<string, CborValue>;

function isMap(v: CborValue): v is Map_ {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function asMap(v: CborValue, field: string): Map_ {
  if (!isMap(v)) throw new NodeFormatError(field, 'must be a map');
  return v;
}

function exactKeys(
  m: Map_,
  field: string,
  required: readonly string[],
  optional: readonly string[] = [],
): void {
  for (const k of required) if (!(k in m)) throw new NodeFormatError(field, `is missing "${k}"`);
  for (const k of Object.keys(m)) {
    if (!required.includes(k) && !optional.includes(k))
      throw new NodeFormatError(field, `has unknown key "${k}"`);
  }
}

function id32(v: CborValue, field: string): NodeId {
  if (!(v instanceof Uint8Array) || v.length !== 32)
    throw new NodeFormatError(field, 'must be a 32-byte id');
  return toHex(v);
}

function text(v: CborValue, field: string, max = 64 * 1024): string {
  if (typeof v !== 'string') throw new NodeFormatError(field, 'must be text');
  if (v.length > max) throw new NodeFormatError(field, `is longer than ${max} characters`);
  return v;
}

/** A tree entry name: one path segment. */
export function checkEntryName(name: string, field = 'payload'): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new NodeFormatError(
      field,
      `entry name ${describeValue(name)} is not a single path segment`,
    );
  }
  if (Buffer.byteLength(name) > 255)
    throw new NodeFormatError(field, `entry name is longer than 255 bytes`);
}

export const TYPE_RULES: Readonly<Record<NodeType, TypeRule>> = {
  root: {
    code: 1,
    parentTypes: [],
    parentCount: 0,
    refs(payload) {
      if (!(payload instanceof Uint8Array) || payload.length !== 0) {
        throw new NodeFormatError('payload', 'the root payload is the empty byte string');
      }
      return [];
    },
  },
  blob: {
    code: 2,
    parentTypes: ['root'],
    parentCount: 1,
    refs(payload) {
      if (!(payload instanceof Uint8Array))
        throw new NodeFormatError('payload', 'a blob payload is a byte string');
      return [];
    },
  },
  tree: {
    code: 3,
    parentTypes: ['root'],
    parentCount: 1,
    refs(payload) {
      const entries = asMap(payload, 'payload');
      const out: Reference[] = [];
      for (const [name, entry] of Object.entries(entries)) {
        checkEntryName(name);
        const field = `payload.${name}`;
        const e = asMap(entry as CborValue, field);
        exactKeys(e, field, ['id', 'kind']);
        if (e.kind !== 'blob' && e.kind !== 'tree')
          throw new NodeFormatError(`${field}.kind`, 'must be "blob" or "tree"');
        out.push({ id: id32(e.id as CborValue, `${field}.id`), types: [e.kind], field });
      }
      return out;
    },
  },
  snapshot: {
    code: 4,
    parentTypes: ['root', 'snapshot'],
    refs(payload) {
      const p = asMap(payload, 'payload');
      exactKeys(p, 'payload', ['author', 'message', 'patches', 'sws', 'tree'], ['findings']);
      if (p.findings !== undefined) {
        if (!Array.isArray(p.findings) || p.findings.length === 0)
          throw new NodeFormatError('payload.findings', 'must be a non-empty array when present');
        (p.findings as CborValue[]).forEach((f, i) => {
          const field = `payload.findings[${i}]`;
          const m = asMap(f, field);
          exactKeys(m, field, ['author', 'message', 'path', 'range', 'severity']);
          text(m.author as CborValue, `${field}.author`, 256);
          text(m.path as CborValue, `${field}.path`, 4096);
          text(m.message as CborValue, `${field}.message`, 4096);
          if (m.severity !== 'info' && m.severity !== 'warning' && m.severity !== 'error')
            throw new NodeFormatError(`${field}.severity`, 'must be info, warning or error');
          const r = m.range;
          if (
            r !== null &&
            !(Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number'))
          )
            throw new NodeFormatError(`${field}.range`, 'must be null or [first, last]');
        });
      }
      text(p.author as CborValue, 'payload.author', 256);
      text(p.message as CborValue, 'payload.message');
      if (p.sws !== null && !(p.sws instanceof Uint8Array && p.sws.length === 16)) {
        throw new NodeFormatError('payload.sws', 'must be null or a 16-byte SWS id');
      }
      if (!Array.isArray(p.patches))
        throw new NodeFormatError('payload.patches', 'must be an array of patch ids');
      const patches = (p.patches as CborValue[]).map((x, i) => id32(x, `payload.patches[${i}]`));
      for (let i = 1; i < patches.length; i++) {
        if (patches[i - 1]! >= patches[i]!)
          throw new NodeFormatError('payload.patches', 'patch ids are sorted and unique');
      }
      return [
        { id: id32(p.tree as CborValue, 'payload.tree'), types: ['tree'], field: 'payload.tree' },
      ];
    },
  },
  rewrite: {
    code: 5,
    parentTypes: ['snapshot'],
    refs(payload) {
      const p = asMap(payload, 'payload');
      exactKeys(p, 'payload', ['kind', 'mapping'], ['conflicts', 'inputs']);
      text(p.kind as CborValue, 'payload.kind', 64);
      if (!Array.isArray(p.mapping))
        throw new NodeFormatError('payload.mapping', 'must be an array of [old, new] id pairs');
      const out: Reference[] = [];
      (p.mapping as CborValue[]).forEach((pair, i) => {
        const f = `payload.mapping[${i}]`;
        if (!Array.isArray(pair) || pair.length !== 2)
          throw new NodeFormatError(f, 'must be an [old, new] pair');
        const any: NodeType[] = ['snapshot', 'tree', 'blob', 'rewrite'];
        out.push({ id: id32(pair[0] as CborValue, `${f}[0]`), types: any, field: f });
        out.push({ id: id32(pair[1] as CborValue, `${f}[1]`), types: any, field: f });
      });
      return out;
    },
  },
  provenance: {
    code: 6,
    parentTypes: ['root', 'provenance'],
    parentCount: 1,
    refs(payload) {
      asMap(payload, 'payload');
      return [];
    },
  },
};

export const TYPE_BY_CODE: readonly (NodeType | undefined)[] = (() => {
  const out: (NodeType | undefined)[] = [];
  for (const [t, r] of Object.entries(TYPE_RULES)) out[r.code] = t as NodeType;
  return out;
})();

/** The one root node of every JIT universe: the genesis every content node and the first snapshot descend from. */
export const ROOT_NODE: JitNode = Object.freeze({
  type: 'root',
  parents: Object.freeze([]) as readonly NodeId[],
  payload: new Uint8Array(0),
  meta: Object.freeze({ lamport: 0 }),
});
