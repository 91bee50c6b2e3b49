import { identityPaths, openHomeIdentity } from '../identity/index.js';
import { Kernel } from '../kernel/index.js';
import { ConnectionError, RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const INIT_HELP = `jit init — make a data directory

Usage: jit init [--home DIR] [--json]

Creates the data directory (default ./.jit or $JIT_HOME) with branch main on an empty snapshot,
the kernel's signing key and an admin key (keys/, mode 0600), and the trust store binding both.
Safe to run again; jitd does the same on first start.
`;

export async function init(io: Io, home: string, json: boolean): Promise<number> {
  let running = false;
  try {
    await (await RpcClient.connect({ path: socketPath(home) })).close();
    running = true;
  } catch (e) {
    if (!(e instanceof ConnectionError)) throw e;
  }
  let main: string | undefined;
  let kernelKey: string | undefined;
  if (!running) {
    const k = await Kernel.open(home);
    try {
      main = k.store.getRef('main')?.target;
      kernelKey = (await openHomeIdentity(home)).kernelKey.fingerprint;
    } finally {
      await k.close();
    }
  }
  const r = { ok: true, home, running, main: main ?? null, kernel_key: kernelKey ?? null };
  io.out(
    json
      ? `${toJson(r)}\n`
      : running
        ? `${home} is in use by a running jitd (already initialized)\n`
        : `initialized ${home} (main at ${main}; kernel key ${kernelKey?.slice(0, 16)}…, admin key in ${identityPaths(home).adminKey})\n`,
  );
  return Exit.OK;
}
