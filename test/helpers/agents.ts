import { type AgentRole, adminSigner, type KeyPair, keySigner } from '../../src/identity/index.js';
import { RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';

/** Binds each agent id to its key (and role: agent unless given) in the trust store of the jitd on `home`, as its admin. */
export async function registerAgents(
  home: string,
  agents: Iterable<readonly [string, KeyPair, AgentRole?]>,
): Promise<void> {
  const admin = await adminSigner(home);
  const c = await RpcClient.connect({ path: socketPath(home) }, { login: admin });
  try {
    for (const [agent, k, role] of agents)
      await c.signedCall(
        'agent.add',
        { agent, public_key: Buffer.from(k.publicKey).toString('hex'), role: role ?? 'agent' },
        admin,
      );
  } finally {
    await c.close();
  }
}

/** A connection to the jitd on `home`, logged in as `agent` with `key`. */
export function loginAs(home: string, agent: string, key: KeyPair): Promise<RpcClient> {
  return RpcClient.connect({ path: socketPath(home) }, { login: keySigner(agent, key) });
}
