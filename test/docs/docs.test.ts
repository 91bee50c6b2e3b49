/**
 * Docs are checked like code (habit 9): every command the README shows exists and runs, and the
 * number tables of docs/INTERNALS.md match the code's frozen tables.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/output.js';
import { startJitd } from '../../src/daemon/jitd.js';
import { ErrorCode } from '../../src/errors/index.js';
import { WalOp } from '../../src/wal/index.js';

const root = new URL('../../../', import.meta.url).pathname;
const read = (p: string): Promise<string> => readFile(join(root, p), 'utf8');

function shellBlocks(md: string): string[] {
  const out: string[] = [];
  for (const m of md.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) {
      const cmd = line.replace(/#.*$/, '').trim();
      if (cmd !== '') out.push(cmd);
    }
  }
  return out;
}

describe('docs - README and INTERNALS stay true', () => {
  it('every npm script the README names exists; every jit command it shows succeeds against jitd', async () => {
    const readme = await read('README.md');
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    const cmds = shellBlocks(readme).flatMap((l) => l.split('&&').map((c) => c.trim()));
    assert.ok(cmds.length >= 4, `README shows ${cmds.length} commands`);
    const home = await mkdtemp(join(tmpdir(), 'jit-readme-'));
    const jitd = await startJitd({ home });
    try {
      for (const cmd of cmds) {
        const words = cmd.split(/\s+/);
        assert.equal(words[0], 'npm', cmd);
        if (words[1] === 'install' || words[1] === 'test' || words[1] === 'start') {
          if (words[1] !== 'install')
            assert.ok(pkg.scripts[words[1]!], `npm ${words[1]} has no script`);
          continue;
        }
        assert.equal(words[1], 'run', cmd);
        assert.ok(
          pkg.scripts[words[2]!],
          `README names npm run ${words[2]}, which package.json lacks`,
        );
        if (words[2] === 'jit') {
          const args = words.slice(words.indexOf('--') + 1);
          let out = '';
          const add = (s: string): void => {
            out += s;
          };
          const io: Io = { tty: false, out: add, err: add };
          assert.equal(await main([...args, '--home', home], io), 0, `${cmd}: ${out}`);
        }
      }
    } finally {
      await jitd.stop();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the WAL op table and the error code table in INTERNALS match the code', async () => {
    const internals = await read('docs/INTERNALS.md');
    const ops = [...internals.matchAll(/^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|/gm)].map((m) => [
      m[2],
      Number(m[1]),
    ]);
    assert.deepEqual(Object.fromEntries(ops), { ...WalOp });
    for (const [name, code] of Object.entries(ErrorCode)) {
      assert.match(
        internals,
        new RegExp(`\\b${code} ${name}\\b`),
        `INTERNALS lacks "${code} ${name}"`,
      );
    }
  });
});
