import { ADMIN_AGENT, identityPaths, KeyPair, keySigner } from '../../src/identity/index.js';
import { RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';

/** Binds each agent id to its key in the trust store of the jitd on `home`, as its admin. */
export async function registerAgents(
  home: string,
  agents: Iterable<readonly [string, KeyPair]>,
): Promise<void> {
  const admin = keySigner(ADMIN_AGENT, await KeyPair.load(identityPaths(home).adminKey));
  const c = await RpcClient.connect({ path: socketPath(home) });
  try {
    for (const [agent, k] of agents)
      await c.signedCall(
        'agent.add',
        { agent, public_key: Buffer.from(k.publicKey).toString('hex') },
        admin,
      );
  } finally {
    await c.close();
  }
}
