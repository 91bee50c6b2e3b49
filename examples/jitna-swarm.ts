/**
 * A swarm assembled just in time (JITNA governance): one intent passes the FDIA gate; a lead finds
 * a tester, a writer and a critic by capability, negotiates with each, makes them members of one
 * shadow working set; they stage patches and a finding through its topics; four judges (four
 * models) verify by quorum; the SWS collapses into one snapshot; and one entry in the audit trail
 * records the whole transaction. The tester runs its work through the 9 Codex.
 *
 *   npm run --silent example -- jitna-swarm     # against the running jitd (npm start), else its own
 */
import type { CborValue } from '../src/codec/index.js';
import { Codex, instantiate } from '../src/governance/index.js';
import type { JsonMap } from '../src/jitna/index.js';
import {
  type Agent,
  type Capabilities,
  type JitnaAgent,
  verifierAnswer,
} from '../src/sdk/index.js';
import { agents, ensureJitd, log } from './setup.js';

// the running jitd (npm start), or one of its own on a temporary directory
const jitd = await ensureJitd();

const judges = ['judge-1', 'judge-2', 'judge-3', 'judge-4'];
const all = await agents(['swarm-lead', 'tester', 'writer', 'critic', ...judges]);
const [lead, tester, writer, critic] = all as [Agent, Agent, Agent, Agent];
const card = (action: string, formats: string[]): Capabilities => ({
  name: action,
  version: '1.0.0',
  supported_actions: [action],
  supported_formats: formats,
  security_level: 3,
  status: 'healthy',
  load: 0.2,
});
const put = (path: string, content: string): CborValue => ({
  op: 'put',
  path,
  content: new TextEncoder().encode(content),
});
const started: JitnaAgent[] = [];

// the tester: writes a test file, inside the 9 Codex (limits, audit, redaction)
started.push(
  await tester.jitna({
    capabilities: card('test', ['ts']),
    codex: new Codex({
      executor: { id: tester.id, role: 'agent', securityLevel: 3, actions: ['test'] },
      keys: tester.acl!,
      audit: { append: (event) => tester.rpc!.call('audit.append', { event: event as CborValue }) },
      limits: { timeMs: 10_000 },
    }),
    onProposal: ({ from }) => ({
      accept: true,
      run: async (terms) => {
        const path = 'tests/range.test.ts';
        log(`tester:     ${from} asks for tests; staging ${path}`);
        await tester.patch(terms.sws as string, [
          put(path, "import { range } from '../src/range';\n// range(0, 3) has 3 items\n"),
        ]);
        return { paths: [path] };
      },
    }),
  }),
);
// the writer: documents what the tests pin
started.push(
  await writer.jitna({
    capabilities: card('document', ['md']),
    onProposal: () => ({
      accept: true,
      run: async (terms) => {
        const path = 'docs/range.md';
        log(`writer:     staging ${path}`);
        await writer.patch(terms.sws as string, [
          put(path, '# range\n\n`range(a, b)` has b − a items.\n'),
        ]);
        return { paths: [path] };
      },
    }),
  }),
);
// the critic: no patch, a finding
started.push(
  await critic.jitna({
    capabilities: card('review', []),
    onProposal: () => ({
      accept: true,
      run: async (terms) => {
        log('critic:     one finding');
        await critic.analyze(terms.sws as string, {
          path: 'tests/range.test.ts',
          severity: 'info',
          message: 'covers the empty range too?',
        });
        return { paths: [], findings: 1 };
      },
    }),
  }),
);
// four judges, four models: each reads the SWS and votes
for (const [i, judge] of all.slice(4).entries())
  started.push(
    await judge.jitna({
      capabilities: { ...card('verify', []), load: 0.1 },
      onProposal: verifierAnswer({
        signer: judge.signer,
        model: `model-${i + 1}`,
        judge: async (_q, terms) => {
          const files = (await judge.rpc!.call('shadow.files', {
            id: terms.sws as string,
          })) as JsonMap;
          const paths = Object.keys(files.files as JsonMap);
          const ok = paths.includes('tests/range.test.ts') && paths.includes('docs/range.md');
          return { vote: ok ? 'agree' : 'disagree', reason: `${paths.length} files` };
        },
      }),
    }),
  );

const me = await lead.jitna();
started.push(me);
for (
  let i = 0;
  me.discover({ action: 'verify' }).length < 4 || me.discover({ action: 'review' }).length < 1;
  i++
) {
  if (i > 1000) throw new Error('the swarm did not announce itself');
  await new Promise((r) => setTimeout(r, 10));
}
const assembler = await lead.assembler({ jitna: me });
const intent = instantiate('write-tests', { data: { target: 'src/range.ts' } });
log(`lead:       intent "${intent.I}"`);
const r = await assembler.assemble({
  intent,
  context: { repo: 'example', at: new Date().toISOString() },
  fdia: { D: 0.9, I: 1.5, A: 1 },
  roles: [{ action: 'test', format: 'ts' }, { action: 'document' }, { action: 'review' }],
  risk: 'medium',
});
log(
  `lead:       FDIA F = ${r.fdia.F} (threshold ${r.fdia.threshold}): ${r.fdia.allowed ? 'allowed' : 'blocked'}`,
);
log(
  `lead:       assembled ${r.agents?.map((a) => a.id).join(', ') ?? 'nobody'} in SWS ${r.sws ?? '-'}`,
);
if (r.verdict)
  log(
    `lead:       quorum tier ${r.verdict.tier}: ${r.verdict.agree} agree, ${r.verdict.disagree} disagree, ${r.verdict.passed ? 'passed' : 'not passed'}`,
  );
console.log(
  `swarm: ${r.outcome}${r.snapshot ? `, snapshot ${r.snapshot.slice(0, 16)}` : ''}${r.failure ? ` (${r.failure.step}: ${r.failure.reason})` : ''}, audit entry ${r.audit.seq}`,
);
for (const j of started) await j.close();
for (const a of all) await a.close();
await jitd.stop();
