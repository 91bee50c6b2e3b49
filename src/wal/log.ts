import { constants } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WalCorruptionError, type WalCorruptionReason } from './errors.js';
import { type ScanOptions, type ScanResult, scanLog } from './scan.js';
import { WalWriter } from './writer.js';

/** fsync a directory, so a created or renamed entry in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `path` (and its directory) if missing, durably. */
async function ensureFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'a');
  await fh.close();
  await syncDir(dirname(path));
}

export interface OpenedLog {
  readonly writer: WalWriter;
  readonly scan: ScanResult;
  /** Bytes of a torn tail that recovery cut off (0 when the log ended cleanly). */
  readonly truncated: number;
}

/**
 * Opens a log for appending after recovering it: every record from `from` on is verified and passed
 * to `onRecord`; a torn tail (an append cut short by a crash, never acknowledged) is truncated; a
 * bad record with verifying records after it stops the open with a WalCorruptionError naming the
 * file and offset. Zeros after the last record (preallocated by a writer that did not close) stay
 * and are written over.
 */
export async function openLog(path: string, opts: ScanOptions = {}): Promise<OpenedLog> {
  await ensureFile(path);
  const scan = await scanLog(path, opts);
  if (scan.tail.kind === 'corrupt') {
    throw new WalCorruptionError(
      path,
      scan.tail.offset,
      scan.tail.reason as WalCorruptionReason,
      `record does not verify (${scan.tail.reason})`,
    );
  }
  // O_DSYNC: each write returns once its bytes are durable, so a group commit is one call (one
  // trip through libuv's thread pool) instead of a write and then an fdatasync
  const dsync = constants.O_DSYNC ?? 0;
  const fh = await open(path, constants.O_RDWR | dsync);
  let truncated = 0;
  if (scan.tail.kind === 'torn') {
    truncated = scan.tail.bytes;
    await fh.truncate(scan.tail.offset);
    await fh.sync();
  }
  const allocated = scan.tail.kind === 'clean' ? scan.size : scan.end;
  return {
    writer: new WalWriter(fh, scan.end, scan.lastTs, { allocated, dsync: dsync !== 0 }),
    scan,
    truncated,
  };
}

export interface RepairResult {
  readonly file: string;
  /** Bytes of the verifying prefix that stay in the log. */
  readonly kept: number;
  readonly records: number;
  /** Bytes moved aside (0 when the log was already clean). */
  readonly setAside: number;
  /** Where they went, or null. */
  readonly asideFile: string | null;
  readonly tail: ScanResult['tail'];
}

/**
 * Moves the bytes of `path` from `offset` to its end into `<path>.aside-<offset>` and truncates the
 * log there, durably. Nothing is destroyed: a person can inspect what was set aside.
 */
export async function setAside(
  path: string,
  offset: number,
): Promise<{ bytes: number; file: string }> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    const rest = new Uint8Array(Math.max(0, size - offset));
    await fh.read(rest, 0, rest.length, offset);
    const aside = `${path}.aside-${offset}`;
    await writeFile(`${aside}.tmp`, rest, { flush: true });
    await rename(`${aside}.tmp`, aside);
    await syncDir(dirname(path));
    await fh.truncate(offset);
    await fh.sync();
    return { bytes: rest.length, file: aside };
  } finally {
    await fh.close();
  }
}

/**
 * Keeps the verifying prefix of a log and sets everything after it aside (see `setAside`). Safe
 * to run on a clean log, where it changes nothing.
 */
export async function repairLog(
  path: string,
  opts: Pick<ScanOptions, 'onProgress' | 'signal'> = {},
): Promise<RepairResult> {
  const scan = await scanLog(path, opts);
  if (scan.tail.kind === 'clean') {
    return {
      file: path,
      kept: scan.end,
      records: scan.records,
      setAside: 0,
      asideFile: null,
      tail: scan.tail,
    };
  }
  const aside = await setAside(path, scan.end);
  return {
    file: path,
    kept: scan.end,
    records: scan.records,
    setAside: aside.bytes,
    asideFile: aside.file,
    tail: scan.tail,
  };
}
