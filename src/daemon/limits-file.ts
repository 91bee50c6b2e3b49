import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkLimits,
  DEFAULT_LIMITS,
  type LimitsConfig,
  LimitsInputError,
} from '../policy/index.js';

/** Where a data directory may keep its rate limits. */
export function limitsPath(home: string): string {
  return join(home, 'limits.json');
}

/**
 * The rate limits for jitd: `<home>/limits.json` when there is one (checked strictly: a bad file
 * stops the boot with what is wrong), else DEFAULT_LIMITS. Roles and agents the file leaves out
 * keep their defaults.
 */
export async function readLimits(home: string): Promise<LimitsConfig> {
  const path = limitsPath(home);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_LIMITS;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LimitsInputError(
      `${path} is not JSON: ${(e as Error).message}`,
      { path },
      { cause: e },
    );
  }
  try {
    const c = checkLimits(v);
    return {
      roles: { ...DEFAULT_LIMITS.roles, ...c.roles },
      agents: c.agents ?? {},
      topics: c.topics ?? {},
    };
  } catch (e) {
    throw new LimitsInputError(`${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}
