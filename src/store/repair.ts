import { unlink } from 'node:fs/promises';
import { type RepairResult, repairLog, setAside } from '../wal/index.js';
import { WalReplayError } from './errors.js';
import { Store, storePaths } from './store.js';

export interface StoreRepairResult extends RepairResult {
  /** Set when a record verified byte-wise but did not replay, and was set aside with what followed. */
  readonly replayFailure: string | null;
}

/**
 * Salvages a data directory that does not boot: keeps the longest prefix of the log that both
 * verifies and replays, sets the rest aside (`<log>.aside-<offset>`), and drops the checkpoint so
 * the next boot replays from the start. Opens and closes the store to prove the result boots.
 */
export async function repairStore(
  dir: string,
  opts: { signal?: AbortSignal; onProgress?: (offset: number, size: number) => void } = {},
): Promise<StoreRepairResult> {
  const paths = storePaths(dir);
  const first = await repairLog(paths.wal, opts);
  await unlink(paths.checkpoint).catch(() => undefined);
  let replayFailure: string | null = null;
  let result: RepairResult = first;
  try {
    await (await Store.open(dir, opts)).close();
  } catch (e) {
    if (!(e instanceof WalReplayError)) throw e;
    replayFailure = e.message;
    const offset = e.details.offset as number;
    const aside = await setAside(paths.wal, offset);
    result = {
      ...first,
      kept: offset,
      setAside: first.setAside + aside.bytes,
      asideFile: aside.file,
    };
    await (await Store.open(dir, opts)).close();
  }
  return { ...result, replayFailure };
}
