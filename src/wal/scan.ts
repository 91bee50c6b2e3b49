import { open } from 'node:fs/promises';
import { parseRecord, RECORD_HEADER_BYTES, type WalRecord } from './format.js';

/** How a scanned log ends. */
export type LogTail =
  /** Every record verifies; anything after the last one is zeros (space the writer preallocated). */
  | { readonly kind: 'clean' }
  /** Bytes after the last verifying record that hold no verifying record: an interrupted append. */
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number }
  /** A record that fails to verify, followed later by one that verifies: damage, not a torn append. */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

export interface ScanResult {
  readonly records: number;
  /** Offset just past the last verifying record. */
  readonly end: number;
  readonly lastTs: number;
  /** Bytes read: `end` plus any preallocated zeros (clean) or the bad tail. */
  readonly size: number;
  readonly tail: LogTail;
}

export interface ScanOptions {
  /** File offset to start at (a record boundary, e.g. a checkpoint's). Default 0. */
  readonly from?: number;
  /** The ts of the record before `from`; records must have strictly larger ts. Default 0. */
  readonly fromTs?: number;
  /**
   * Called for each verifying record in order. `record.payload` is a view valid only during the
   * call. A throw stops the scan and propagates.
   */
  readonly onRecord?: (record: WalRecord) => void;
  readonly onProgress?: (offset: number, size: number) => void;
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
  /** Read only up to this offset (a record boundary), as if the file ended there. */
  readonly to?: number;
}

/**
 * Reads a log from `from` to its end, verifying every record. It stops at the first record that
 * does not verify and classifies what follows: `torn` when nothing after it verifies (an append cut
 * short by a crash), `corrupt` otherwise. It changes nothing on disk.
 */
export async function scanLog(path: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const fh = await open(path, 'r');
  try {
    const actual = (await fh.stat()).size;
    const size = opts.to === undefined ? actual : Math.min(actual, opts.to);
    const chunk = opts.chunkBytes ?? 8 * 1024 * 1024;
    let buf = new Uint8Array(0);
    let base = opts.from ?? 0; // file offset of buf[0]
    let filled = base; // file offset just past what buf holds
    let at = 0;
    let records = 0;
    let lastTs = opts.fromTs ?? 0;
    const refill = async (need: number): Promise<boolean> => {
      if (filled >= size) return false;
      const keep = buf.subarray(at);
      const want = Math.max(chunk, need);
      const next = new Uint8Array(keep.length + Math.min(want, size - filled));
      next.set(keep);
      let got = keep.length;
      while (got < next.length) {
        const { bytesRead } = await fh.read(next, got, next.length - got, filled);
        if (bytesRead === 0) break;
        got += bytesRead;
        filled += bytesRead;
      }
      base += at;
      at = 0;
      buf = next.subarray(0, got);
      return true;
    };
    const stop = (tail: LogTail): ScanResult => ({ records, end: base + at, lastTs, size, tail });
    for (;;) {
      opts.signal?.throwIfAborted();
      const r = parseRecord(buf, at, base);
      if (r.kind === 'incomplete') {
        if (await refill(r.need)) continue;
        if (base + at === size) return stop({ kind: 'clean' });
        return stop(await classify(fh, base + at, size, 'truncated record'));
      }
      if (r.kind === 'bad') return stop(await classify(fh, base + at, size, r.reason));
      if (r.record.ts <= lastTs)
        return stop({ kind: 'corrupt', offset: base + at, reason: 'ts-not-increasing' });
      lastTs = r.record.ts;
      records++;
      opts.onRecord?.(r.record);
      at = r.end;
      if (records % 65536 === 0) opts.onProgress?.(base + at, size);
    }
  } finally {
    await fh.close();
  }
}

/**
 * After a failure at `offset`: clean if only zeros follow (preallocated space), torn if no verifying
 * record starts anywhere later, else corrupt.
 */
async function classify(
  fh: import('node:fs/promises').FileHandle,
  offset: number,
  size: number,
  reason: string,
): Promise<LogTail> {
  const rest = new Uint8Array(size - offset);
  let got = 0;
  while (got < rest.length) {
    const { bytesRead } = await fh.read(rest, got, rest.length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (allZero(rest.subarray(0, got))) return { kind: 'clean' };
  for (let i = 1; i + RECORD_HEADER_BYTES <= got; i++) {
    if (rest[i] !== 0x4a || rest[i + 1] !== 0x49 || rest[i + 2] !== 0x54 || rest[i + 3] !== 0x20)
      continue;
    if (parseRecord(rest.subarray(0, got), i, offset).kind === 'record') {
      return { kind: 'corrupt', offset, reason };
    }
  }
  return { kind: 'torn', offset, bytes: size - offset };
}

function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
