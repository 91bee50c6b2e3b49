import { userInfo } from 'node:os';
import type { CborValue } from '../codec/index.js';
import { isHashHex } from '../codec/index.js';
import { JitError } from '../errors/index.js';
import { adminSigner, identityPaths, KeyPair, keySigner, type Signer } from '../identity/index.js';
import { RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';

/** The CLI cannot tell who to log in as (no readable admin key, or JIT_KEY without an id). */
export class LoginSetupError extends JitError {
  override readonly name = 'LoginSetupError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/**
 * Who the CLI logs in as: the agent of $JIT_KEY (a key file; its id in $JIT_LOGIN, else
 * $JIT_AGENT), else the data directory's admin (its key file, readable by whoever runs jitd).
 */
export async function cliSigner(home: string): Promise<Signer> {
  const keyFile = process.env.JIT_KEY;
  if (keyFile !== undefined && keyFile !== '') {
    const agent = process.env.JIT_LOGIN || process.env.JIT_AGENT;
    if (!agent)
      throw new LoginSetupError(
        'JIT_KEY names a key file; set JIT_LOGIN (or JIT_AGENT) to its agent id',
      );
    return keySigner(agent, await KeyPair.load(keyFile));
  }
  const path = identityPaths(home).adminKey;
  try {
    return await adminSigner(home);
  } catch (e) {
    throw new LoginSetupError(
      `cannot read the admin key ${path} (${(e as Error).message}); to log in as an agent, set JIT_KEY=<key file> and JIT_LOGIN=<agent id>`,
    );
  }
}

/** A connection to the jitd of `home`, logged in (see cliSigner). */
export async function connectCli(home: string): Promise<RpcClient> {
  const c = await RpcClient.connect({ path: socketPath(home) });
  try {
    await c.login(await cliSigner(home));
  } catch (e) {
    await c.close();
    throw e;
  }
  return c;
}

/** Connects to the jitd of `home`, logs in (see cliSigner), runs `fn`, closes. */
export async function withClient<T>(home: string, fn: (c: RpcClient) => Promise<T>): Promise<T> {
  const c = await connectCli(home);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

export type Obj = Record<string, CborValue>;

export async function call(c: RpcClient, op: string, payload: CborValue = {}): Promise<Obj> {
  return (await c.call(op, payload)) as Obj;
}

/** A NodeID as given, or the target of the ref of that name. */
export async function resolveTarget(c: RpcClient, nameOrId: string): Promise<string> {
  if (isHashHex(nameOrId)) return nameOrId;
  return (await call(c, 'ref.get', { name: nameOrId })).target as string;
}

/** Who the CLI acts as: --agent, else $JIT_AGENT, else $JIT_LOGIN, else the login name. */
export function agentOf(flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return flag;
  if (process.env.JIT_AGENT) return process.env.JIT_AGENT;
  if (process.env.JIT_LOGIN) return process.env.JIT_LOGIN;
  try {
    return userInfo().username || 'human';
  } catch {
    return 'human';
  }
}
