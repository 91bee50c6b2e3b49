import { open, readFile, unlink } from 'node:fs/promises';
import { StoreLockedError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock on a data directory: a `LOCK` file holding the owner's pid, created with
 * O_EXCL. A lock whose process is gone (a crash) is taken over. Returns the release function.
 */
export async function lockDir(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.sync();
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new StoreLockedError(
          `the data directory is in use by process ${pid} (${path}); stop it, or point JIT_HOME at another directory`,
          { pid, lock: path },
        );
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new StoreLockedError(`could not take the lock ${path}`, { lock: path });
}
