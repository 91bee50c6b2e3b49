import { blake3Hex, type CborValue, encode, toHex } from '../codec/index.js';
import type { NodeId } from '../dag/index.js';
import { describeValue } from '../errors/index.js';
import { PatchInputError } from './errors.js';
import type { Hunk } from './lines.js';
import { pathSegments } from './path.js';

/**
 * A patch (DESIGN §4): `{ops, author, nonce?, note?}`, applied atomically. `patch_id` is BLAKE3 of
 * its canonical encoding, so the same patch delivered twice has one id (idempotence).
 *
 * `expect` is the blob id the path must hold now; null: the path must not exist; absent: no check.
 */
export type PatchOp =
  | {
      readonly op: 'put';
      readonly path: string;
      readonly content: Uint8Array;
      readonly expect?: NodeId | null;
    }
  | { readonly op: 'delete'; readonly path: string; readonly expect?: NodeId | null }
  | {
      readonly op: 'move';
      readonly from: string;
      readonly to: string;
      readonly expect?: NodeId | null;
    }
  | {
      readonly op: 'edit';
      readonly path: string;
      readonly base: NodeId;
      readonly hunks: readonly Hunk[];
    }
  | { readonly op: 'resolve'; readonly path: string; readonly content: Uint8Array };

export interface Patch {
  readonly ops: readonly PatchOp[];
  readonly author: string;
  readonly nonce?: Uint8Array | string;
  readonly note?: string;
}

export const MAX_PATCH_OPS = 10_000;

type M = Record<string, CborValue>;

function isMap(v: CborValue | undefined): v is M {
  return (
    v !== null &&
    v !== undefined &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array)
  );
}

function keysOnly(m: M, where: string, allowed: readonly string[]): void {
  for (const k of Object.keys(m))
    if (!allowed.includes(k)) throw new PatchInputError(`${where} has unknown key "${k}"`);
}

function blobId(v: CborValue | undefined, where: string): NodeId {
  if (!(v instanceof Uint8Array) || v.length !== 32)
    throw new PatchInputError(`${where} must be a 32-byte blob id`);
  return toHex(v);
}

function expectOf(m: M, where: string): { expect?: NodeId | null } {
  if (!('expect' in m)) return {};
  if (m.expect === null) return { expect: null };
  return { expect: blobId(m.expect, `${where}.expect`) };
}

function bytes(v: CborValue | undefined, where: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new PatchInputError(`${where} must be a byte string`);
  return v;
}

function uint(v: CborValue | undefined, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new PatchInputError(`${where} must be a non-negative integer`);
  return v;
}

function decodeOp(v: CborValue, i: number): PatchOp {
  const where = `ops[${i}]`;
  if (!isMap(v)) throw new PatchInputError(`${where} must be a map with an "op"`);
  switch (v.op) {
    case 'put':
      keysOnly(v, where, ['op', 'path', 'content', 'expect']);
      pathSegments(v.path, `${where}.path`);
      return {
        op: 'put',
        path: v.path as string,
        content: bytes(v.content, `${where}.content`),
        ...expectOf(v, where),
      };
    case 'delete':
      keysOnly(v, where, ['op', 'path', 'expect']);
      pathSegments(v.path, `${where}.path`);
      return { op: 'delete', path: v.path as string, ...expectOf(v, where) };
    case 'move':
      keysOnly(v, where, ['op', 'from', 'to', 'expect']);
      pathSegments(v.from, `${where}.from`);
      pathSegments(v.to, `${where}.to`);
      if (v.from === v.to) throw new PatchInputError(`${where} moves a path onto itself`);
      return { op: 'move', from: v.from as string, to: v.to as string, ...expectOf(v, where) };
    case 'edit': {
      keysOnly(v, where, ['op', 'path', 'base', 'hunks']);
      pathSegments(v.path, `${where}.path`);
      if (!Array.isArray(v.hunks)) throw new PatchInputError(`${where}.hunks must be an array`);
      let at = 0;
      const hunks = (v.hunks as CborValue[]).map((h, k): Hunk => {
        const hw = `${where}.hunks[${k}]`;
        if (!isMap(h)) throw new PatchInputError(`${hw} must be {start, end, lines}`);
        keysOnly(h, hw, ['start', 'end', 'lines']);
        const start = uint(h.start, `${hw}.start`);
        const end = uint(h.end, `${hw}.end`);
        if (end < start || start < at)
          throw new PatchInputError(`${hw} must be in order and not overlap the one before`);
        at = end;
        if (
          !Array.isArray(h.lines) ||
          !(h.lines as CborValue[]).every((l) => typeof l === 'string' && !l.includes('\n'))
        ) {
          throw new PatchInputError(`${hw}.lines must be an array of lines (text without "\\n")`);
        }
        return { start, end, lines: h.lines as string[] };
      });
      return { op: 'edit', path: v.path as string, base: blobId(v.base, `${where}.base`), hunks };
    }
    case 'resolve':
      keysOnly(v, where, ['op', 'path', 'content']);
      pathSegments(v.path, `${where}.path`);
      return {
        op: 'resolve',
        path: v.path as string,
        content: bytes(v.content, `${where}.content`),
      };
    default:
      throw new PatchInputError(
        `${where}.op ${describeValue(v.op)} is not one of put, delete, move, edit, resolve`,
      );
  }
}

/** Validates a patch from its CBOR form. Throws PatchInputError naming the bad field. */
export function decodePatch(v: CborValue | undefined): Patch {
  if (!isMap(v)) throw new PatchInputError('a patch is a map {ops, author, nonce?, note?}');
  keysOnly(v, 'patch', ['ops', 'author', 'nonce', 'note']);
  if (typeof v.author !== 'string' || v.author.length === 0 || v.author.length > 256) {
    throw new PatchInputError('patch.author must be a non-empty string of at most 256 characters');
  }
  if (!Array.isArray(v.ops) || v.ops.length === 0 || v.ops.length > MAX_PATCH_OPS) {
    throw new PatchInputError(`patch.ops must hold 1 to ${MAX_PATCH_OPS} operations`);
  }
  const ops = (v.ops as CborValue[]).map(decodeOp);
  if (v.nonce !== undefined && typeof v.nonce !== 'string' && !(v.nonce instanceof Uint8Array)) {
    throw new PatchInputError('patch.nonce must be text or bytes');
  }
  if (v.note !== undefined && typeof v.note !== 'string')
    throw new PatchInputError('patch.note must be text');
  return {
    ops,
    author: v.author,
    ...(v.nonce !== undefined ? { nonce: v.nonce as string | Uint8Array } : {}),
    ...(v.note !== undefined ? { note: v.note as string } : {}),
  };
}

/** The canonical CBOR form of a patch. */
export function patchValue(p: Patch): CborValue {
  const ops = p.ops.map((o): CborValue => {
    const expect =
      'expect' in o && o.expect !== undefined
        ? { expect: o.expect === null ? null : Buffer.from(o.expect, 'hex') }
        : {};
    switch (o.op) {
      case 'put':
        return { op: o.op, path: o.path, content: o.content, ...expect };
      case 'delete':
        return { op: o.op, path: o.path, ...expect };
      case 'move':
        return { op: o.op, from: o.from, to: o.to, ...expect };
      case 'edit':
        return {
          op: o.op,
          path: o.path,
          base: Buffer.from(o.base, 'hex'),
          hunks: o.hunks.map((h) => ({ start: h.start, end: h.end, lines: [...h.lines] })),
        };
      case 'resolve':
        return { op: o.op, path: o.path, content: o.content };
      default:
        throw new PatchInputError(`unknown op ${describeValue((o as { op: unknown }).op)}`);
    }
  });
  return { ops, author: p.author, nonce: p.nonce, note: p.note };
}

/** patch_id = BLAKE3 of the canonical patch. */
export function patchId(p: Patch): string {
  return blake3Hex(encode(patchValue(p)));
}
