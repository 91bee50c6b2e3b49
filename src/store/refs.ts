import { type CborValue, decode, encode, fromHex, isHashHex, toHex } from '../codec/index.js';
import type { NodeId, NodeType } from '../dag/index.js';
import { describeValue } from '../errors/index.js';
import { RefConflictError, RefInputError, RefNotFoundError } from './errors.js';

/**
 * Refs (RFC-0010, DESIGN §4): branches move, tags never do. HEAD is local and never stored here.
 * A ref update is one SET_REF record `{name, kind, target}` (target null deletes a branch).
 */
export type RefKind = 'branch' | 'tag';

export interface Ref {
  readonly name: string;
  readonly kind: RefKind;
  readonly target: NodeId;
}

export interface RefUpdate {
  readonly name: string;
  readonly kind: RefKind;
  /** The new target, or null to delete (branches only). */
  readonly target: NodeId | null;
  /** Compare-and-set: the target the ref must have now (null: must not exist). */
  readonly expect?: NodeId | null;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;
const BRANCH_TARGETS: readonly NodeType[] = ['snapshot'];
/** The branch the kernel keeps on the newest audit entry (kernel/audit.ts): it points at provenance. */
export const AUDIT_REF = 'jit/audit';
const AUDIT_TARGETS: readonly NodeType[] = ['provenance'];
const TAG_TARGETS: readonly NodeType[] = ['snapshot', 'rewrite', 'provenance'];

export function checkRefName(name: string): void {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 255 ||
    !NAME.test(name) ||
    name.includes('..') ||
    name.endsWith('.lock')
  ) {
    throw new RefInputError(
      `ref name ${describeValue(name)} is not valid: use letters, digits, . _ - and / between segments`,
    );
  }
  if (name === 'HEAD')
    throw new RefInputError('HEAD is local to a checkout and is never stored in the kernel');
}

/**
 * Checks `u` against the current refs and DAG; returns the ref after the update (null: deleted)
 * or throws a typed error. Pure: admission and replay call the same function.
 */
export function checkRefUpdate(
  u: RefUpdate,
  current: Ref | undefined,
  typeOf: (id: NodeId) => NodeType | undefined,
): Ref | null {
  checkRefName(u.name);
  if (u.kind !== 'branch' && u.kind !== 'tag')
    throw new RefInputError(`ref kind ${describeValue(u.kind)} is neither branch nor tag`);
  if (u.expect !== undefined && (current?.target ?? null) !== u.expect) {
    throw new RefConflictError(
      `ref ${u.name} is at ${current?.target ?? 'nothing'}, not the expected ${u.expect ?? 'nothing'}`,
      {
        ref: u.name,
      },
    );
  }
  if (current !== undefined && current.kind !== u.kind) {
    throw new RefConflictError(`${u.name} is a ${current.kind}; it cannot become a ${u.kind}`, {
      ref: u.name,
    });
  }
  if (u.target === null) {
    if (current === undefined)
      throw new RefNotFoundError(`no ref named ${u.name}`, { ref: u.name });
    if (current.kind === 'tag')
      throw new RefConflictError(`tag ${u.name} cannot be deleted`, { ref: u.name });
    return null;
  }
  if (!isHashHex(u.target))
    throw new RefInputError(`ref target ${describeValue(u.target)} is not a 64-hex NodeID`);
  const type = typeOf(u.target);
  if (type === undefined)
    throw new RefNotFoundError(`ref target ${u.target} is not in the DAG`, { target: u.target });
  const allowed =
    u.kind === 'tag' ? TAG_TARGETS : u.name === AUDIT_REF ? AUDIT_TARGETS : BRANCH_TARGETS;
  if (!allowed.includes(type))
    throw new RefInputError(`a ${u.kind} cannot point at a ${type} node`);
  if (current?.kind === 'tag' && current.target !== u.target) {
    throw new RefConflictError(`tag ${u.name} never moves (it points at ${current.target})`, {
      ref: u.name,
    });
  }
  return { name: u.name, kind: u.kind, target: u.target };
}

/** What a collapse's SET_REF adds: the SWS it collapsed (and the rewrite node, when it merged). */
export interface RefLink {
  readonly sws: Uint8Array;
  readonly rewrite: NodeId | null;
}

export function encodeRefUpdate(u: RefUpdate, link?: RefLink): Uint8Array {
  const base = {
    name: u.name,
    kind: u.kind,
    target: u.target === null ? null : fromHex(u.target)!,
  };
  if (link === undefined) return encode(base);
  return encode({
    ...base,
    sws: link.sws,
    rewrite: link.rewrite === null ? null : fromHex(link.rewrite)!,
  });
}

export function decodeRefUpdate(payload: Uint8Array): RefUpdate & { link?: RefLink } {
  const v = decode(payload) as Record<string, CborValue>;
  const t = v.target;
  if (v.sws !== undefined) {
    const rw = v.rewrite;
    if (
      !(v.sws instanceof Uint8Array && v.sws.length === 16) ||
      !(rw === null || (rw instanceof Uint8Array && rw.length === 32))
    ) {
      throw new RefInputError('SET_REF link is not {sws: 16 bytes, rewrite: id | null}');
    }
  }
  if (
    typeof v.name !== 'string' ||
    (v.kind !== 'branch' && v.kind !== 'tag') ||
    !(t === null || (t instanceof Uint8Array && t.length === 32))
  ) {
    throw new RefInputError('SET_REF payload is not {name, kind, target}');
  }
  const u: RefUpdate = { name: v.name, kind: v.kind, target: t === null ? null : toHex(t) };
  if (v.sws === undefined) return u;
  const rw = v.rewrite as Uint8Array | null;
  return { ...u, link: { sws: v.sws as Uint8Array, rewrite: rw === null ? null : toHex(rw) } };
}
