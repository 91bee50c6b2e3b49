#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's own test runner.
// Node 20's `--test` takes no globs, and treats every .js under a `test/` folder as a test,
// helpers included; so the list is made here. Arguments filter files by substring:
//   node scripts/run-tests.mjs codec wal     runs only files whose path contains "codec" or "wal".
// JIT_LONG=1 (npm run test:long) raises the iteration counts of fuzz, crash and soak tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist/test').filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || '(all)'}; did the build run?`);
  process.exit(1);
}
const long = process.env.JIT_LONG === '1';
const args = ['--test', '--test-concurrency=2', '--enable-source-maps'];
if (long) args.push('--test-timeout=3600000');
else args.push('--test-timeout=300000');
const r = spawnSync(process.execPath, [...args, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
