/**
 * What both examples share: find the running jitd, and give each example agent a key (kept under
 * the data directory's keys/, made on first use) bound in the trust store with the local admin key.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { adminSigner, identityPaths, KeyPair } from '../src/identity/index.js';
import { ConnectionError, RpcClient } from '../src/rpc/index.js';
import { Agent } from '../src/sdk/index.js';
import { resolveHome, socketPath } from '../src/util/home.js';

export const home = resolveHome();
export const log = (s: string): void => void process.stderr.write(`${s}\n`);

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
