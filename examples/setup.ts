/**
 * What the examples share: find the running jitd (or start one, `ensureJitd`), and give each example agent a key (kept under
 * the data directory's keys/, made on first use) bound in the trust store with the local admin key.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJitd } from '../src/daemon/jitd.js';
import { adminSigner, identityPaths, KeyPair } from '../src/identity/index.js';
import { ConnectionError, RpcClient } from '../src/rpc/index.js';
import { Agent } from '../src/sdk/index.js';
import { resolveHome, socketPath } from '../src/util/home.js';

/** The data directory of the jitd the examples talk to. */
export let home = resolveHome();
export const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** Whether a jitd answers at `home`. */
export async function jitdRunning(): Promise<boolean> {
  try {
    const c = await RpcClient.connect({ path: socketPath(home) });
    await c.close();
    return true;
  } catch (e) {
    if (e instanceof ConnectionError) return false;
    throw e;
  }
}

/**
 * The jitd at `home` if one runs, else one started here on a fresh temporary data directory
 * (so the example runs with one command); `stop` stops only what was started here.
 */
export async function ensureJitd(): Promise<{ stop(): Promise<void> }> {
  if (await jitdRunning()) return { stop: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'jit-example-'));
  log(`no jitd at ${home}: starting one on ${dir} for this run`);
  const j = await startJitd({ home: dir });
  home = dir;
  return {
    stop: async () => {
      await j.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a connection logged in as the data directory's admin (the human at the keyboard). */
export async function withAdmin<T>(fn: (admin: RpcClient) => Promise<T>): Promise<T> {
  let admin: RpcClient;
  try {
    admin = await RpcClient.connect({ path: socketPath(home) }, { login: await adminSigner(home) });
  } catch (e) {
    if (e instanceof ConnectionError) {
      log(`no jitd at ${home}: start it first with \`npm start\` (or set JIT_HOME)`);
      process.exit(3);
    }
    throw e;
  }
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Connects `names` as agents, registering their keys first (idempotent). */
export function agents(names: readonly string[]): Promise<Agent[]> {
  return withAdmin(async (admin) => {
    const adminKey = await adminSigner(home);
    const out: Agent[] = [];
    for (const name of names) {
      const path = join(identityPaths(home).dir, `example-${name}.key`);
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      const key = exists ? await KeyPair.load(path) : KeyPair.generate();
      if (!exists) await key.save(path);
      await admin.signedCall(
        'agent.add',
        { agent: name, public_key: Buffer.from(key.publicKey).toString('hex') },
        adminKey,
      );
      out.push(await Agent.connect({ agent: name, key, plane: socketPath(home) }));
    }
    return out;
  });
}
