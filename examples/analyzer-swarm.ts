/**
 * A human's change is reviewed by a swarm of analyzers before the human commits it with the CLI.
 * This makes an SWS owned by "human" holding one change, lets three analyzer agents look at it and
 * publish findings on jit.sws.<id>.analyze (the kernel records each as an annotation), and prints
 * the SWS id on stdout, so that:
 *
 *   S=$(npm run --silent example -- analyzer-swarm)
 *   jit sws status $S                               # the findings
 *   jit sws commit $S -m "reviewed" --agent human   # they go into the snapshot's provenance
 */
import type { Finding } from '../src/sdk/index.js';
import { agents, log, withAdmin } from './setup.js';

const [lint, security, tests] = await agents(['lint-bot', 'security-bot', 'test-bot']);
const source = 'export function add(a, b) {\n  return a + b\n}\nconst unused = 1\n';
// the human (logged in with the data directory's admin key) opens the SWS, makes the change and
// lets the three analyzers in: only members may read it and publish findings on it
const sws = await withAdmin(async (human) => {
  const { id } = (await human.call('shadow.create', { ref: 'main', owner: 'human' })) as {
    id: string;
  };
  await human.call('shadow.apply_patch', {
    id,
    patch: {
      author: 'human',
      ops: [{ op: 'put', path: 'src/add.js', content: new TextEncoder().encode(source) }],
    },
  });
  for (const bot of [lint, security, tests])
    await human.call('shadow.add_member', { id, agent: bot!.id });
  return id;
});
log(`human's SWS ${sws} holds src/add.js; three analyzers look at it`);

// each analyzer reads the file from the SWS and reports what it finds
const read = async (): Promise<string> => {
  const r = (await lint!.rpc!.call('shadow.read', { id: sws, path: 'src/add.js' })) as {
    content: Uint8Array;
  };
  return new TextDecoder().decode(r.content);
};
const text = await read();
const lines = text.split('\n');
const findings: [typeof lint, Finding][] = [];
lines.forEach((l, i) => {
  if (/^\s*return .*[^;]$/.test(l))
    findings.push([
      lint,
      {
        path: 'src/add.js',
        range: [i + 1, i + 1],
        severity: 'warning',
        message: 'missing semicolon',
      },
    ]);
  if (/^const (\w+) = /.test(l))
    findings.push([
      lint,
      { path: 'src/add.js', range: [i + 1, i + 1], severity: 'info', message: 'unused constant' },
    ]);
});
findings.push([
  security,
  { path: 'src/add.js', severity: 'info', message: 'no input reaches a sink' },
]);
findings.push([
  tests,
  { path: 'src/add.js', range: [1, 3], severity: 'error', message: 'add() has no test' },
]);
await Promise.all(
  findings.map(async ([agent, f]) => {
    await agent!.analyze(sws, f);
    log(`${agent!.id}: ${f.severity} ${f.path}${f.range ? `:${f.range[0]}` : ''} ${f.message}`);
  }),
);
console.log(sws);
for (const a of [lint, security, tests]) await a!.close();
