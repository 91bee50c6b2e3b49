import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import type { Kernel } from '../kernel/index.js';
import { type AclRule, parseRulesFile, rulesFileText } from '../policy/index.js';

const debug = debuglog('jitd');

/** Where a data directory keeps its ACL rules for people to read and edit. */
export function aclPath(home: string): string {
  return join(home, 'acl.json');
}

/** Writes the rule file atomically (a synced temporary file, then a rename). */
export async function writeAclFile(home: string, rules: readonly AclRule[]): Promise<void> {
  const path = aclPath(home);
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(rulesFileText(rules));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * At boot the log's rules are the truth, but `acl.json` may have been edited while jitd was
 * stopped: then its rules (checked first: a bad file stops the boot with what is wrong) become the
 * rules, through one ACL_SET record like any change. With no file, the log's rules are written
 * out so there is one to edit.
 */
export async function reconcileAclFile(home: string, kernel: Kernel): Promise<void> {
  const path = aclPath(home);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text === undefined) {
    await writeAclFile(home, kernel.policy.list);
    return;
  }
  const rules = parseRulesFile(text, path);
  const r = await kernel.setAcl(rules);
  if (r.updated) debug('acl: %d rules taken from the edited %s', r.rules.length, path);
  if (text !== rulesFileText(r.rules)) await writeAclFile(home, r.rules);
}
