/**
 * Docs are checked like code (habit 9): every command the README shows exists and runs, and the
 * number tables of docs/INTERNALS.md match the code's frozen tables.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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

/**
 * Runs a README shell block with bash (`-e -o pipefail`, aliases on) with JIT_HOME=home. Async:
 * jitd runs in this process, so a synchronous child would deadlock it.
 */
function runBlock(
  block: string,
  home: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-O', 'expand_aliases', '-e', '-o', 'pipefail', '-c', block],
      { cwd: root, env: { ...process.env, JIT_HOME: home }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs - README and INTERNALS stay true', () => {
  it('the Quick start names scripts that exist', async () => {
    const readme = await read('README.md');
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    const quick = shellBlocks(readme.slice(readme.indexOf('## Quick start'))).slice(0, 2);
    assert.deepEqual(quick, ['npm install && npm start', 'npm test']);
    for (const script of ['start', 'test', 'test:long', 'bench', 'jit', 'build', 'lint']) {
      assert.ok(pkg.scripts[script], `package.json lacks the ${script} script the README names`);
    }
  });

  it('the first session of the README runs verbatim against a live jitd', async () => {
    const readme = await read('README.md');
    const block = readme
      .slice(readme.indexOf('paste this into another terminal'))
      .match(/```sh\n([\s\S]*?)```/)![1]!;
    const home = await mkdtemp(join(tmpdir(), 'jit-readme-'));
    const jitd = await startJitd({ home });
    try {
      const r = await runBlock(block, home);
      assert.equal(r.status, 0, `README session failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /A hello\.txt/);
      assert.match(r.stdout, /say hi/);
      const info = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('\n{\n') + 1)) as {
        sws_total: number;
        head: string;
      };
      assert.equal(info.sws_total, 2, 'the import and the session each used one SWS');
      assert.equal(info.head, jitd.kernel.store.getRef('main')?.target);
    } finally {
      await jitd.stop();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the Message Plane examples of the README run verbatim against a live jitd', async () => {
    const readme = await read('README.md');
    const block = readme
      .slice(readme.indexOf('## Agents on the Message Plane'))
      .match(/```sh\n([\s\S]*?)```/)![1]!;
    const home = await mkdtemp(join(tmpdir(), 'jit-readme-mp-'));
    const jitd = await startJitd({ home });
    try {
      const r = await runBlock(block, home);
      assert.equal(r.status, 0, `README Message Plane block failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /6 files from alice and bob/);
      assert.match(r.stdout, /findings {2}4/);
      assert.match(r.stdout, /add\(\) has no test {2}\(test-bot\)/);
      assert.match(r.stdout, /negotiated: completed by review-bot, result \{.*"findings":3/);
      assert.match(r.stdout, /swarm: completed, snapshot [0-9a-f]{16}, audit entry \d+/);
      assert.match(r.stdout, /audit trail ok: \d+ entries/);
      // main: the swarm's snapshot (the critic's finding) on the reviewed one (the four findings)
      const reader = jitd.kernel.store.reader;
      const head = jitd.kernel.store.getRef('main')!.target;
      const swarm = reader.get(head).payload as { findings?: unknown[] };
      assert.equal(swarm.findings?.length, 1, "the critic's finding is in the swarm's snapshot");
      const reviewed = reader.get(reader.get(head).parents[0]!).payload as { findings?: unknown[] };
      assert.equal(reviewed.findings?.length, 4, 'the findings are in the committed snapshot');
    } finally {
      await jitd.stop();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the dashboard block of the README runs verbatim against a live jitd with its dashboard', async () => {
    const readme = await read('README.md');
    const at = readme.indexOf('## Watch it: the dashboard');
    assert.ok(at >= 0);
    assert.match(readme.slice(at), /!\[[^\]]*\]\(docs\/dashboard\.png\)/);
    await readFile(join(root, 'docs/dashboard.png')); // the picture is there
    const block = readme.slice(at).match(/```sh\n([\s\S]*?)```/)![1]!;
    const home = await mkdtemp(join(tmpdir(), 'jit-readme-dash-'));
    const jitd = await startJitd({ home, dashboard: { port: 0 } });
    try {
      const r = await runBlock(block, home);
      assert.equal(r.status, 0, `README dashboard block failed:\n${r.stdout}\n${r.stderr}`);
      assert.ok(r.stdout.includes(`dashboard  ${jitd.dashboardUrl}`), r.stdout);
      assert.match(r.stdout, /demo: 12 agents, 1 intents, 1 committed, 6 patches, 1 findings/);
      assert.match(r.stdout, /audit trail ok: 1 entries/);
    } finally {
      await jitd.stop();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the security block of the README runs verbatim against a live jitd', async () => {
    const readme = await read('README.md');
    const block = readme
      .slice(readme.indexOf('## Who may do what'))
      .match(/```sh\n([\s\S]*?)```/)![1]!;
    const home = await mkdtemp(join(tmpdir(), 'jit-readme-acl-'));
    const jitd = await startJitd({ home });
    try {
      const r = await runBlock(block, home);
      assert.equal(r.status, 0, `README security block failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /applied [0-9a-f]{64}/, 'the llm patched its SWS');
      assert.match(r.stdout, /commit refused, as it should be/);
      assert.match(r.stderr, /llm \(restricted\) may not shadow\.commit/);
      assert.match(r.stdout, /denied: denied by deny\(role:agent, ref\.delete, ref\.main\)/);
      assert.match(r.stdout, /^deny\(role:agent, ref\.delete, ref\.main\)$/m);
      const sws = jitd.kernel.swsSummary();
      assert.equal(sws.active, 1, 'the SWS was not committed');
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
