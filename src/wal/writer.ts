import type { FileHandle } from 'node:fs/promises';
import { allocBytes } from '../codec/index.js';
import { WalClosedError, WalRecordError } from './errors.js';
import {
  MAX_RECORD_PAYLOAD,
  RECORD_OVERHEAD,
  type WalOpNumber,
  walOpName,
  writeRecord,
} from './format.js';
import { Preallocator } from './prealloc.js';

export interface WalEntry {
  readonly op: WalOpNumber;
  /** Canonical CBOR bytes. */
  readonly payload: Uint8Array;
}

export interface Appended {
  readonly ts: number;
  /** File offset of the record; its payload starts 24 bytes later. */
  readonly offset: number;
}

/**
 * Told of each group commit once it is durable: how long its write and sync took, in seconds, and
 * how many bytes it held. For metrics only: nothing here reaches the log.
 */
export type WalSyncObserver = (seconds: number, bytes: number) => void;

export interface WalWriterOptions {
  /**
   * Extend the file ahead of the records with zero-filled, synced chunks (default true), so that a
   * group commit overwrites allocated blocks and its fdatasync has no size change to commit.
   */
  readonly preallocate?: boolean;
  /** File offset up to which the file already holds zeros past `end` (a preallocated tail found at open). */
  readonly allocated?: number;
  /**
   * The file was opened with O_DSYNC: a write returns once it is durable, so a group commit needs
   * no fdatasync after it. @default false
   */
  readonly dsync?: boolean;
}

interface Pending {
  readonly bytes: Uint8Array;
  readonly result: Appended[];
  readonly resolve: (r: Appended[]) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Appends records to a log and acknowledges them only once they are durable (fdatasync, or a write
 * to a file opened with O_DSYNC). Appends that arrive while a commit is in flight are written
 * together by the next one: group commit.
 * Each record gets the next logical ts and its file offset at admission, so admission order is log
 * order. A failed write or sync poisons the writer: every later append is refused until the log is
 * reopened (and recovered), because after a failed fsync nothing can be assumed about the file.
 */
export class WalWriter {
  private readonly fh: FileHandle;
  private reservedEnd: number;
  private durableEnd: number;
  private ts: number;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  /** Group commits done so far (one write + one fdatasync each). */
  syncs = 0;
  /** Called after each group commit (metrics). */
  onSync: WalSyncObserver | undefined;
  private readonly prealloc: Preallocator;
  private readonly dsync: boolean;

  constructor(fh: FileHandle, end: number, lastTs: number, opts: WalWriterOptions = {}) {
    this.fh = fh;
    this.dsync = opts.dsync ?? false;
    this.reservedEnd = end;
    this.durableEnd = end;
    this.ts = lastTs;
    this.prealloc = new Preallocator(
      fh,
      Math.max(end, opts.allocated ?? end),
      opts.preallocate ?? true,
    );
  }

  /** Offset just past the last durable record. */
  get end(): number {
    return this.durableEnd;
  }

  get lastTs(): number {
    return this.ts;
  }

  /** Bytes admitted and not yet durable (the group commit's queue). */
  get pendingBytes(): number {
    return this.reservedEnd - this.durableEnd;
  }

  /** True when every admitted record is durable. */
  get idle(): boolean {
    return this.reservedEnd === this.durableEnd;
  }

  /**
   * Admits `entries` as consecutive records and resolves once they are durable. A `signal` that is
   * already aborted refuses the call; once admitted, records are written whatever happens to the
   * signal (kernel commands are idempotent, so a retried command is harmless).
   */
  append(entries: readonly WalEntry[], opts: { signal?: AbortSignal } = {}): Promise<Appended[]> {
    opts.signal?.throwIfAborted();
    if (this.closed) return Promise.reject(new WalClosedError('the log is closed'));
    if (this.failure)
      return Promise.reject(
        new WalClosedError('the log failed; reopen it to recover', {}, { cause: this.failure }),
      );
    let total = 0;
    for (const e of entries) {
      if (walOpName(e.op) === undefined)
        throw new WalRecordError(`unknown WAL op ${e.op}`, { op: e.op });
      if (e.payload.length > MAX_RECORD_PAYLOAD) {
        throw new WalRecordError(
          `payload of ${e.payload.length} bytes exceeds ${MAX_RECORD_PAYLOAD}`,
        );
      }
      total += RECORD_OVERHEAD + e.payload.length;
    }
    // writeRecord fills every byte: header, payload, checksum
    const bytes = allocBytes(total);
    const result: Appended[] = [];
    let at = 0;
    for (const e of entries) {
      const ts = ++this.ts;
      result.push({ ts, offset: this.reservedEnd + at });
      at += writeRecord(bytes, at, e.op, ts, e.payload);
    }
    this.reservedEnd += total;
    return new Promise<Appended[]>((resolve, reject) => {
      this.queue.push({ bytes, result, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 && !this.failure) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let size = 0;
      for (const p of batch) size += p.bytes.length;
      const started = this.onSync === undefined ? 0 : performance.now();
      try {
        const batchEnd = this.durableEnd + size;
        const clear = this.prealloc.clearUpTo(batchEnd);
        if (clear !== undefined) await clear;
        this.prealloc.ahead(batchEnd);
        // one gathered write of the whole group (no copy into a single buffer); a short write,
        // rare for files, finishes with plain writes of what is left
        const parts = batch.map((p) => p.bytes);
        let written = (await this.fh.writev(parts, this.durableEnd)).bytesWritten;
        if (written < size) {
          const data = Buffer.concat(parts, size);
          while (written < size) {
            const { bytesWritten } = await this.fh.write(
              data,
              written,
              size - written,
              this.durableEnd + written,
            );
            written += bytesWritten;
          }
        }
        if (!this.dsync) await this.fh.datasync();
      } catch (e) {
        this.failure = e as Error;
        const err = new WalClosedError(
          'writing the log failed; it must be reopened',
          {},
          { cause: e },
        );
        for (const p of [...batch, ...this.queue]) p.reject(err);
        this.queue = [];
        return;
      }
      this.durableEnd += size;
      this.syncs++;
      this.onSync?.((performance.now() - started) / 1000, size);
      for (const p of batch) p.resolve(p.result);
    }
  }

  /** Waits for everything admitted so far to be durable. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  /**
   * Flushes what was admitted, then closes the file, cutting off the preallocated zeros so a closed
   * log ends at its last record. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush().catch(() => undefined);
    await this.prealloc.stop();
    if (this.failure === undefined) await this.fh.truncate(this.durableEnd).catch(() => undefined);
    await this.fh.close();
  }
}
