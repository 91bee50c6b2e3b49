import { join, resolve } from 'node:path';

/** The data directory: `--home`, else JIT_HOME, else `./.jit`. */
export function resolveHome(flag?: string): string {
  return resolve(flag ?? process.env.JIT_HOME ?? '.jit');
}

/** Where jitd listens in a data directory. */
export function socketPath(home: string): string {
  return join(home, 'jitd.sock');
}

export const JIT_VERSION = '0.1.0';
