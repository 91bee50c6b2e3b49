/**
 * What both examples share: find the running jitd, and give each example agent a key (kept under
 * the data directory's keys/, made on first use) bound in the trust store with the local admin key.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_AGENT, identityPaths, KeyPair, keySigner } from '../src/identity/index.js';
import { ConnectionError, RpcClient } from '../src/rpc/index.js';
import { Agent } from '../src/sdk/index.js';
import { resolveHome, socketPath } from '../src/util/home.js';

export const home = resolveHome();
export const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** Connects `names` as agents, registering their keys first (idempotent). */
export async function agents(names: readonly string[]): Promise<Agent[]> {
  let admin: RpcClient;
  try {
    admin = await RpcClient.connect({ path: socketPath(home) });
  } catch (e) {
    if (e instanceof ConnectionError) {
      log(`no jitd at ${home}: start it first with \`npm start\` (or set JIT_HOME)`);
      process.exit(3);
    }
    throw e;
  }
  const adminKey = keySigner(ADMIN_AGENT, await KeyPair.load(identityPaths(home).adminKey));
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
  await admin.close();
  return out;
}
