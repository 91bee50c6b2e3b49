import { userInfo } from 'node:os';
import type { CborValue } from '../codec/index.js';
import { isHashHex } from '../codec/index.js';
import { RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';

/** Connects to the jitd of `home`, runs `fn`, closes. */
export async function withClient<T>(home: string, fn: (c: RpcClient) => Promise<T>): Promise<T> {
  const c = await RpcClient.connect({ path: socketPath(home) });
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

/** Who the CLI acts as: --agent, else $JIT_AGENT, else the login name. */
export function agentOf(flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return flag;
  if (process.env.JIT_AGENT) return process.env.JIT_AGENT;
  try {
    return userInfo().username || 'human';
  } catch {
    return 'human';
  }
}
