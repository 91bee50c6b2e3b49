import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isHashHex } from '../codec/index.js';
import { ConnectionError } from '../rpc/index.js';
import { call, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

/**
 * The local HEAD of a checkout (RFC-0010): which ref and snapshot a directory was checked out
 * from. It lives only in the checkout, in `.jithead`, never in the DAG or the log. `ref` is null
 * when the checkout is detached (made from a node id).
 */
export interface Head {
  readonly ref: string | null;
  readonly snapshot: string;
}

export const HEAD_FILE = '.jithead';

export const HEAD_HELP = `jit head — the local HEAD of a checkout

Usage: jit head [DIR] [--json]

Shows the ref and snapshot DIR (.) was checked out from, and, when jitd is up, whether the branch
has moved since. HEAD is local: it lives in DIR/${HEAD_FILE}, never in the kernel.
`;

export async function readHead(dir: string): Promise<Head | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, HEAD_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as Partial<Head>;
  if (!isHashHex(v.snapshot) || !(v.ref === null || typeof v.ref === 'string')) return undefined;
  return { ref: v.ref, snapshot: v.snapshot };
}

export async function writeHead(dir: string, head: Head): Promise<void> {
  await writeFile(join(dir, HEAD_FILE), `${JSON.stringify(head)}\n`);
}

export async function head(io: Io, home: string, json: boolean, dir: string): Promise<number> {
  const h = await readHead(dir);
  if (h === undefined) {
    io.err(`jit: ${dir} is not a checkout (no ${HEAD_FILE}); make one with jit checkout REF DIR\n`);
    return Exit.FOUND_PROBLEM;
  }
  let branchAt: string | null = null;
  if (h.ref !== null) {
    try {
      branchAt = await withClient(
        home,
        async (c) => (await call(c, 'ref.get', { name: h.ref! })).target as string,
      );
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
    }
  }
  const r = {
    ...h,
    detached: h.ref === null,
    branch_at: branchAt,
    behind: branchAt !== null && branchAt !== h.snapshot,
  };
  if (json) io.out(`${toJson(r)}\n`);
  else {
    io.out(
      h.ref === null ? `HEAD detached at ${h.snapshot}\n` : `HEAD ${h.ref} at ${h.snapshot}\n`,
    );
    if (r.behind) io.out(`${h.ref} has moved on to ${branchAt}\n`);
  }
  return Exit.OK;
}
