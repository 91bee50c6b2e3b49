import { Dag } from '../dag/index.js';
import { JitError } from '../errors/index.js';
import { type LogTail, scanLog, type WalRecord } from '../wal/index.js';
import { WalReplayError } from './errors.js';
import type { Ref } from './refs.js';
import { applyRecord, storeDigest, storePaths } from './store.js';
import { WalNodeSource } from './wal-source.js';

export interface ReadOnlyReplay {
  readonly records: number;
  /** Offset just past the last record replayed. */
  readonly end: number;
  readonly tail: LogTail;
  /** Digest of the DAG and refs the log rebuilds (as Store.digest). */
  readonly digest: string;
  readonly nodes: number;
}

/**
 * Replays a data directory's log from the start into fresh memory, taking no lock and writing
 * nothing, so it can run beside a live jitd. Every record is verified and passes the same checks as
 * a live write (invariants, ref rules). `to` stops at an offset (a record boundary), so a live
 * kernel can compare itself with the log up to the moment it took its own digest.
 */
export async function replayReadOnly(
  dir: string,
  opts: {
    to?: number;
    onRecord?: (r: WalRecord) => void;
    onProgress?: (offset: number, size: number) => void;
    signal?: AbortSignal;
  } = {},
): Promise<ReadOnlyReplay> {
  const path = storePaths(dir).wal;
  const source = new WalNodeSource(path);
  try {
    const dag = new Dag(source);
    const refs = new Map<string, Ref>();
    const scan = await scanLog(path, {
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onRecord: (rec) => {
        try {
          applyRecord(dag, refs, rec, opts.onRecord);
        } catch (e) {
          if (!(e instanceof JitError)) throw e;
          throw new WalReplayError(
            `${path}: record at byte offset ${rec.offset} does not replay: ${e.message}`,
            { file: path, offset: rec.offset },
            { cause: e },
          );
        }
      },
    });
    return {
      records: scan.records,
      end: scan.end,
      tail: scan.tail,
      digest: storeDigest(dag, refs),
      nodes: dag.size,
    };
  } finally {
    source.close();
  }
}
