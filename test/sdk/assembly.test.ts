/**
 * Just-in-time assembly end to end (issue 8, build item 7), on the `memory` transport (agents on
 * jitd's own in-process broker) and the `native` one (through jitd's relay): an intent passes the
 * gate, three agents of different capabilities are found, negotiated with and made members of one
 * SWS, work through its topics, a tier-4 quorum verifies, the SWS collapses, and one audit entry
 * records it all. Then: the intake cache, a blocked intent, a worker crashing mid-task (re-routed,
 * and the audit says so) and a role nobody can finish (failed cleanly, nothing reaches main).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CborValue } from '../../src/codec/index.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { type IntentRecord, instantiate, replayAudit } from '../../src/governance/index.js';
import { KeyPair } from '../../src/identity/index.js';
import { verifyAuditChain } from '../../src/kernel/index.js';
import {
  Agent,
  type Assembler,
  type AssemblyRequest,
  type Capabilities,
  type JitnaAgent,
  type ProposalAnswer,
  verifierAnswer,
} from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { put } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-assembly-');
type Obj = Record<string, CborValue>;

const caps = (action: string, formats: string[], load: number): Capabilities => ({
  name: action,
  version: '1',
  supported_actions: [action],
  supported_formats: formats,
  security_level: 3,
  status: 'healthy',
  load,
});

for (const transport of ['memory', 'native'] as const) {
  describe(`assembly on the ${transport} transport`, () => {
    let jitd: Jitd;
    const names = ['coord', 'tester', 'documenter', 'reviewer', 'crashy', 'v1', 'v2', 'v3', 'v4'];
    const keys = Object.fromEntries(names.map((n) => [n, KeyPair.generate()]));
    const agents = new Map<string, Agent>();
    const jitnas: JitnaAgent[] = [];
    let assembler: Assembler;
    let coord: Agent;

    const connect = async (name: string): Promise<Agent> => {
      const a = await Agent.connect({
        agent: name,
        key: keys[name]!,
        ...(transport === 'memory'
          ? { plane: 'memory:', broker: jitd.broker, kernel: socketPath(jitd.home) }
          : { plane: socketPath(jitd.home) }),
      });
      agents.set(name, a);
      return a;
    };
    /** A worker that stages one file in the SWS it is given, and reports it. */
    const writer = (a: Agent, dir: string, ext: string) => (): ProposalAnswer => ({
      accept: true,
      run: async (terms) => {
        const sws = terms.sws as string;
        const path = `${dir}/${String(terms.intent).slice(0, 12)}.${ext}`;
        await a.patch(sws, [put(path, `${a.id} was here\n`) as CborValue]);
        return { paths: [path] };
      },
    });

    before(async () => {
      jitd = await startJitd({ home: await tmp() });
      await registerAgents(
        jitd.home,
        names.map((n) => [n, keys[n]!] as const),
      );
      coord = await connect('coord');
      const tester = await connect('tester');
      jitnas.push(
        await tester.jitna({
          capabilities: caps('test', ['ts'], 0.5),
          onProposal: writer(tester, 'tests', 'test.ts'),
        }),
      );
      const documenter = await connect('documenter');
      jitnas.push(
        await documenter.jitna({
          capabilities: caps('document', ['md'], 0.5),
          onProposal: writer(documenter, 'docs', 'md'),
        }),
      );
      const reviewer = await connect('reviewer');
      jitnas.push(
        await reviewer.jitna({
          capabilities: caps('review', [], 0.5),
          onProposal: () => ({
            accept: true,
            run: async (terms) => {
              await reviewer.analyze(terms.sws as string, {
                path: 'tests',
                severity: 'info',
                message: 'reviewed',
              });
              return { paths: [], findings: 1 };
            },
          }),
        }),
      );
      for (const v of ['v1', 'v2', 'v3', 'v4']) {
        const a = await connect(v);
        jitnas.push(
          await a.jitna({
            capabilities: caps('verify', [], 0.1),
            onProposal: verifierAnswer({
              signer: a.signer,
              model: `model-${v}`,
              // a verifier reads the SWS it is asked about
              judge: async (_q, terms) => {
                const files = (await a.rpc!.call('shadow.files', {
                  id: terms.sws as string,
                })) as Obj;
                const n = Object.keys(files.files as Obj).length;
                return n >= 2
                  ? { vote: 'agree', reason: `${n} files` }
                  : { vote: 'disagree', reason: 'too little' };
              },
            }),
          }),
        );
      }
      assembler = await coord.assembler();
      const me = (assembler as unknown as { o: { jitna: JitnaAgent } }).o.jitna;
      for (
        let i = 0;
        me.discover({ action: 'verify' }).length < 4 ||
        me.discover({ action: 'review' }).length < 1;
        i++
      ) {
        if (i > 1000) assert.fail('the agents did not announce themselves');
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    after(async () => {
      for (const j of jitnas) await j.close();
      for (const a of agents.values()) await a.close().catch(() => undefined);
      await jitd.stop();
    });

    const intent: IntentRecord = instantiate('write-tests', { data: { target: 'src/range.ts' } });
    const request = (over: Partial<AssemblyRequest> = {}): AssemblyRequest => ({
      intent,
      context: { repo: 'demo', transport },
      fdia: { D: 0.9, I: 1, A: 1 },
      roles: [{ action: 'test', format: 'ts' }, { action: 'document' }, { action: 'review' }],
      risk: 'medium',
      deadlineMs: 10_000,
      voteTimeoutMs: 5_000,
      ...over,
    });
    const mainHead = async (): Promise<string> =>
      ((await coord.rpc!.call('ref.get', { name: 'main' })) as Obj).target as string;
    const auditLog = async () =>
      ((await coord.rpc!.call('audit.log', {})) as Obj)
        .entries as unknown as import('../../src/kernel/index.js').AuditEntry[];

    it('assembles three agents around one SWS, verifies by quorum, collapses and records it', async () => {
      const before = await mainHead();
      const r = await assembler.assemble(request());
      assert.equal(r.outcome, 'completed', JSON.stringify(r.failure));
      assert.equal(r.cached, false);
      assert.equal(await mainHead(), r.snapshot);
      assert.notEqual(r.snapshot, before);
      assert.deepEqual(r.agents!.map((a) => a.id).sort(), ['documenter', 'reviewer', 'tester']);
      assert.equal(r.verdict!.tier, '4');
      assert.equal(r.verdict!.agree, 4);
      assert.equal(r.verdict!.passed, true);
      // the work is in main: the files, and the reviewer's finding in the snapshot's provenance
      const status = (await coord.rpc!.call('shadow.status', { id: r.sws! })) as Obj;
      assert.equal(status.state, 'COLLAPSED');
      assert.deepEqual(status.members, [], 'the members are released');
      // the audit entry is the record, and the whole trail verifies and replays
      const log = await auditLog();
      const entry = log.find((e) => e.seq === r.audit.seq)!;
      assert.equal(entry.digest, r.audit.digest);
      assert.equal(entry.event.tx, r.tx);
      assert.equal(entry.by, 'coord');
      assert.equal(verifyAuditChain(log).ok, true);
      assert.deepEqual(replayAudit(log, coord.acl!).divergence, undefined);
      // the same intent in the same context: answered from the intake, nothing run again
      const again = await assembler.assemble(request());
      assert.equal(again.cached, true);
      assert.equal(again.tx, r.tx);
      assert.equal((await auditLog()).length, log.length);
    });

    it('a blocked intent starts no work, and the audit says so', async () => {
      const head = await mainHead();
      const r = await assembler.assemble(
        request({ fdia: { D: 0.9, I: 1, A: 0 }, context: { blocked: true } }),
      );
      assert.equal(r.outcome, 'blocked');
      assert.equal(r.sws, undefined);
      assert.equal(r.fdia.rule, 'no-approval');
      assert.equal(await mainHead(), head);
      assert.equal((await auditLog()).at(-1)!.event.outcome, 'blocked');
    });

    it('a worker crashing mid-task: its role is re-routed, and the audit names both', async () => {
      const crashy = await connect('crashy');
      const cj = await crashy.jitna({
        capabilities: caps('test', ['ts'], 0.1),
        onProposal: () => ({
          accept: true,
          run: async () => {
            await crashy.close(); // gone mid-task: no answer ever comes
            return new Promise<never>(() => undefined);
          },
        }),
      });
      const me = (assembler as unknown as { o: { jitna: JitnaAgent } }).o.jitna;
      for (let i = 0; me.discover({ action: 'test' })[0]?.adapter_id !== 'crashy'; i++) {
        if (i > 1000) assert.fail('crashy never ranked first');
        await new Promise((r) => setTimeout(r, 5));
      }
      const r = await assembler.assemble(request({ context: { crash: 1 }, deadlineMs: 1500 }));
      await cj.close();
      assert.equal(r.outcome, 'completed', JSON.stringify(r.failure));
      const testRole = r.negotiation!.find((n) => n.role === 'test')!;
      assert.deepEqual(
        (testRole.tried as Obj[]).map((t) => `${String(t.agent)}:${String(t.state)}`),
        ['crashy:expired', 'tester:completed'],
      );
      assert.ok(!r.agents!.some((a) => a.id === 'crashy'));
    });

    it('a role nobody can finish fails the transaction cleanly: SWS discarded, main untouched, recorded', async () => {
      const head = await mainHead();
      const r = await assembler.assemble(
        request({
          context: { crash: 2 },
          roles: [{ action: 'document' }, { action: 'test', format: 'ts' }],
          attempts: 1,
          deadlineMs: 1500,
        }),
      );
      // crashy is still ranked first for `test` (its card lasts three heartbeats) and never answers
      assert.equal(r.outcome, 'failed');
      assert.equal(r.failure!.step, 'negotiate');
      assert.match(r.failure!.reason, /no agent completed test: crashy expired/);
      assert.equal(await mainHead(), head);
      const status = (await coord.rpc!.call('shadow.status', { id: r.sws! })) as Obj;
      assert.equal(status.state, 'DISCARDED');
      const last = (await auditLog()).at(-1)!;
      assert.equal(last.event.outcome, 'failed');
      assert.equal(last.event.tx, r.tx);
      // a role no agent offers fails before anything is opened
      const none = await assembler.assemble(
        request({ context: { none: 1 }, roles: [{ action: 'translate' }] }),
      );
      assert.deepEqual(
        [none.outcome, none.failure!.step, none.sws],
        ['failed', 'discover', undefined],
      );
    });
  });
}
