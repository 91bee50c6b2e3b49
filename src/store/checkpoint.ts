import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  blake3,
  blake3Paced,
  type CborValue,
  decodePrefix,
  encode,
  equalBytes,
  fromHex,
  HASH_BYTES,
  toHex,
} from '../codec/index.js';
import { NodeIndex } from '../dag/index.js';
import { type GiveWay, noGiveWay } from '../util/give-way.js';
import { syncDir } from '../wal/index.js';
import type { Ref } from './refs.js';

/**
 * A checkpoint lets boot skip replaying the log up to `walOffset`: the node index and the refs as
 * they were there, and the state of the layers above (`ext`). File: a canonical CBOR header
 * `{v, wal_offset, last_ts, last_sum, refs, index_len, ext_len}`, then the index dump
 * (`index_len` bytes), then `ext` (`ext_len` bytes; null: none), then BLAKE3-256 of everything
 * before it. The large parts are raw bytes after the header, so writing never copies or encodes
 * them again and hashing can go in steps. `last_sum` is the checksum of the record that ends at
 * `wal_offset`, so a checkpoint that belongs to another log is noticed and ignored. A checkpoint
 * is a cache: losing it costs a full replay, never data.
 */
export interface Checkpoint {
  readonly walOffset: number;
  readonly lastTs: number;
  readonly lastSum: Uint8Array;
  readonly index: NodeIndex;
  readonly refs: readonly Ref[];
  /** State of the layers above the store (the kernel's working sets), opaque here. */
  readonly ext: Uint8Array | null;
}

/** What a checkpoint is written from: the index already dumped, `ext` as pieces to concatenate. */
export interface CheckpointParts {
  readonly walOffset: number;
  readonly lastTs: number;
  readonly lastSum: Uint8Array;
  readonly index: Uint8Array;
  readonly refs: readonly Ref[];
  readonly ext: readonly Uint8Array[] | null;
}

/**
 * v2 added `ext`; v3 moved the index and `ext` out of the CBOR item, after the header. A
 * checkpoint of another version is ignored (a full replay), never misread.
 */
export const CHECKPOINT_VERSION = 3;

/** Writes the file (temp, fsync, rename, directory fsync); answers its checksum and size. */
export async function writeCheckpoint(
  path: string,
  c: CheckpointParts,
  pause: GiveWay = noGiveWay,
): Promise<{ sum: Uint8Array; bytes: number }> {
  const refs = [...c.refs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ext = c.ext ?? [];
  const extLen = ext.reduce((n, p) => n + p.length, 0);
  const header = encode({
    v: CHECKPOINT_VERSION,
    wal_offset: c.walOffset,
    last_ts: c.lastTs,
    last_sum: c.lastSum,
    refs: refs.map((r) => [r.name, r.kind, fromHex(r.target)!]),
    index_len: c.index.length,
    ext_len: c.ext === null ? null : extLen,
  });
  const parts = [header, c.index, ...ext];
  const sum = await blake3Paced(parts, pause);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writev([...parts, sum]);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
  return { sum, bytes: header.length + c.index.length + extLen + sum.length };
}

/** Reads a checkpoint; returns a reason string instead when it is missing or does not verify. */
export async function readCheckpoint(path: string): Promise<Checkpoint | string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw e;
  }
  if (bytes.length < HASH_BYTES) return 'checkpoint file is truncated';
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  if (!equalBytes(blake3(body), bytes.subarray(bytes.length - HASH_BYTES)))
    return 'checkpoint checksum does not match';
  try {
    const { value, end } = decodePrefix(body);
    const v = value as Record<string, CborValue>;
    if (v.v !== CHECKPOINT_VERSION)
      return `checkpoint version ${String(v.v)} is not ${CHECKPOINT_VERSION}`;
    const indexLen = v.index_len as number;
    const extLen = v.ext_len as number | null;
    if (end + indexLen + (extLen ?? 0) !== body.length)
      return 'checkpoint parts do not add up to its length';
    const refs = (v.refs as CborValue[][]).map(([name, kind, target]) => ({
      name: name as string,
      kind: kind as Ref['kind'],
      target: toHex(target as Uint8Array),
    }));
    return {
      walOffset: v.wal_offset as number,
      lastTs: v.last_ts as number,
      lastSum: v.last_sum as Uint8Array,
      index: NodeIndex.load(body.subarray(end, end + indexLen)),
      refs,
      ext: extLen === null ? null : body.subarray(end + indexLen),
    };
  } catch (e) {
    return `checkpoint does not decode: ${(e as Error).message}`;
  }
}
