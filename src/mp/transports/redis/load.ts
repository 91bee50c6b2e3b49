/**
 * The Redis client library, imported on first use: a process that never opens a Redis plane
 * (every `jit` command, a `jitd` on another plane) does not pay for loading it.
 */
export type RedisLib = typeof import('redis');

let loading: Promise<RedisLib> | undefined;

export function loadRedis(): Promise<RedisLib> {
  loading ??= import('redis');
  return loading;
}
