import type { FileHandle } from 'node:fs/promises';

/** The log is extended ahead of its records by zero-filled chunks in this size range. */
export const PREALLOC_MIN_BYTES = 1 << 20;
export const PREALLOC_MAX_BYTES = 64 << 20;
/** Written, never changed: what every chunk is filled from, a piece at a time. */
const ZEROS = new Uint8Array(256 << 10);

interface Fill {
  readonly from: number;
  /** Zeros written (not yet synced) up to here: records below it are safe from the fill. */
  filledTo: number;
  readonly waiters: (() => void)[];
}

/**
 * Keeps zero-filled, synced space ahead of a log's records, so a group commit overwrites blocks
 * the file already has and its fdatasync has no size or allocation to commit (on ext4 a sync of
 * an appending write costs about half again as much). Fills run beside the group commits, a
 * chunk at a time, started when less than one chunk is left; chunks grow with the log (a quarter
 * of its size, 1 to 64 MiB). A batch that reaches into a running fill waits only until the fill's
 * writes have passed it, never for its sync. A failed fill is dropped: preallocation only saves
 * work, and the records' own writes and syncs report any trouble with the file.
 */
export class Preallocator {
  private readonly fh: FileHandle;
  private readonly enabled: boolean;
  /** Zero-filled and synced up to here. */
  private allocatedTo: number;
  private fill: Fill | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(fh: FileHandle, allocatedTo: number, enabled: boolean) {
    this.fh = fh;
    this.allocatedTo = allocatedTo;
    this.enabled = enabled;
  }

  /**
   * Before records are written up to `end`: a promise to await when a running fill has not yet
   * written past `end` (its zeros would land on the records), else undefined.
   */
  clearUpTo(end: number): Promise<void> | undefined {
    const f = this.fill;
    if (f === undefined || end <= f.from || end <= f.filledTo) return undefined;
    return new Promise<void>((resolve) => f.waiters.push(resolve)).then(() => this.clearUpTo(end));
  }

  /** Starts the next fill past `end` (where the records written next will stop) when it is time. */
  ahead(end: number): void {
    if (!this.enabled || this.stopped || this.fill !== undefined) return;
    let chunk = PREALLOC_MIN_BYTES;
    while (chunk < PREALLOC_MAX_BYTES && chunk < end / 4) chunk *= 2;
    if (this.allocatedTo - end >= chunk) return;
    const from = Math.max(this.allocatedTo, end);
    const fill: Fill = { from, filledTo: from, waiters: [] };
    this.fill = fill;
    this.running = this.zeroFill(fill, chunk)
      .then(
        () => {
          this.allocatedTo = from + chunk;
        },
        () => undefined,
      )
      .finally(() => {
        this.fill = undefined;
        this.running = undefined;
        for (const w of fill.waiters.splice(0)) w();
      });
  }

  /** Starts no more fills and waits for the running one. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async zeroFill(fill: Fill, bytes: number): Promise<void> {
    const end = fill.from + bytes;
    while (fill.filledTo < end) {
      const n = Math.min(ZEROS.length, end - fill.filledTo);
      const { bytesWritten } = await this.fh.write(ZEROS, 0, n, fill.filledTo);
      // synced piece by piece: a group commit's fdatasync flushes every dirty page of the file,
      // so at most one piece of zeros rides along with it
      await this.fh.datasync();
      fill.filledTo += bytesWritten;
      for (const w of fill.waiters.splice(0)) w();
    }
  }
}
