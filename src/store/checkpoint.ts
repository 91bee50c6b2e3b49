import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  blake3,
  type CborValue,
  decode,
  encode,
  equalBytes,
  fromHex,
  HASH_BYTES,
  toHex,
} from '../codec/index.js';
import { NodeIndex } from '../dag/index.js';
import { syncDir } from '../wal/index.js';
import type { Ref } from './refs.js';

/**
 * A checkpoint lets boot skip replaying the log up to `walOffset`: the node index and the refs as
 * they were there. File: canonical CBOR `{v, wal_offset, last_ts, last_sum, index, refs, ext}` then its
 * BLAKE3-256. `last_sum` is the checksum of the record that ends at `wal_offset`, so a checkpoint
 * that belongs to another log is noticed and ignored. A checkpoint is a cache: losing it costs a
 * full replay, never data.
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

/** v2 added `ext`. A checkpoint of another version is ignored (a full replay), never misread. */
export const CHECKPOINT_VERSION = 2;

export async function writeCheckpoint(path: string, c: Checkpoint): Promise<Uint8Array> {
  const refs = [...c.refs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const body = encode({
    v: CHECKPOINT_VERSION,
    wal_offset: c.walOffset,
    last_ts: c.lastTs,
    last_sum: c.lastSum,
    index: c.index.dump(),
    refs: refs.map((r) => [r.name, r.kind, fromHex(r.target)!]),
    ext: c.ext,
  });
  const sum = blake3(body);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writev([body, sum]);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
  return sum;
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
    const v = decode(body) as Record<string, CborValue>;
    if (v.v !== CHECKPOINT_VERSION)
      return `checkpoint version ${String(v.v)} is not ${CHECKPOINT_VERSION}`;
    const refs = (v.refs as CborValue[][]).map(([name, kind, target]) => ({
      name: name as string,
      kind: kind as Ref['kind'],
      target: toHex(target as Uint8Array),
    }));
    return {
      walOffset: v.wal_offset as number,
      lastTs: v.last_ts as number,
      lastSum: v.last_sum as Uint8Array,
      index: NodeIndex.load(v.index as Uint8Array),
      refs,
      ext: (v.ext ?? null) as Uint8Array | null,
    };
  } catch (e) {
    return `checkpoint does not decode: ${(e as Error).message}`;
  }
}
