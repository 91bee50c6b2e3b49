import { checkEntryName } from '../dag/index.js';
import { describeValue } from '../errors/index.js';
import { PatchInputError } from './errors.js';

/** Longest path accepted, in characters. */
export const MAX_PATH = 4096;

/**
 * Checks a working-set path: relative, '/'-separated segments, each a valid tree entry name (no
 * empty, '.', '..', NUL). Returns its segments.
 */
export function pathSegments(path: unknown, field = 'path'): string[] {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH) {
    throw new PatchInputError(`${field} ${describeValue(path)} is not a relative file path`);
  }
  const segs = path.split('/');
  try {
    for (const s of segs) checkEntryName(s, field);
  } catch (e) {
    throw new PatchInputError(
      `${field} ${describeValue(path)} is not a relative file path: use a/b/c, no . or .. segments`,
      {},
      { cause: e },
    );
  }
  return segs;
}

/** The parent directories of a path, nearest last: "a/b/c" → ["a", "a/b"]. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}
