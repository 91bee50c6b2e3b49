import type { CborValue } from '../codec/index.js';
import { instantiate } from '../governance/index.js';
import { adminSigner, KeyPair } from '../identity/index.js';
import type { JsonMap } from '../jitna/index.js';
import { RpcClient } from '../rpc/index.js';
import { Agent, type Capabilities, type JitnaAgent, verifierAnswer } from '../sdk/index.js';
import { socketPath } from '../util/home.js';

/** What one intent of the demo came to. */
export interface DemoIntent {
  readonly intent: number;
  readonly outcome: string;
  readonly sws: string | null;
  readonly agents: readonly string[];
  readonly quorum: string | null;
  readonly snapshot: string | null;
  readonly audit: number;
  readonly failure: string | null;
}

export interface DemoResult {
  readonly agents: number;
  readonly intents: readonly DemoIntent[];
  readonly patches: number;
  readonly findings: number;
  readonly ms: number;
}

export interface DemoOptions {
  /** The data directory of the running jitd. */
  readonly home: string;
  /** The plane jitd's bridge listens on (a broker URL); default: jitd's own relay. */
  readonly plane?: string;
  /** Agents in the swarm (at least 8: a lead, three workers and four judges). @default 12 */
  readonly agents?: number;
  /** Intents run at once, each by its own lead. @default one per 12 agents */
  readonly intents?: number;
  /** Patches each worker stages for its intent. @default 3 */
  readonly patchesPerWorker?: number;
  /** One line per step, for people. */
  readonly say: (line: string) => void;
  readonly signal?: AbortSignal;
}

const JUDGES = 4;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (path: string, content: string): CborValue => ({
  op: 'put',
  path,
  content: enc(content),
});
const card = (action: string, formats: string[], load: number): Capabilities => ({
  name: `demo ${action}`,
  version: '1.0.0',
  supported_actions: [action],
  supported_formats: formats,
  security_level: 3,
  status: 'healthy',
  load,
});

/**
 * A swarm on the running jitd, to watch on the dashboard: agents announce capability cards; each
 * intent's lead passes the FDIA gate, finds a tester, a writer and a critic by capability,
 * negotiates with each and makes them members of one SWS; the workers stage patches at once and
 * the critic a finding; four judges verify by quorum; the SWS collapses (merging with the other
 * intents' commits) and the transaction goes into the audit trail. Its agents are added to the
 * trust store for the run and removed after it.
 */
export async function runDemoSwarm(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const total = Math.max(8, o.agents ?? 12);
  // each intent needs its lead and three workers of its own; the four judges serve them all
  const intents = Math.max(
    1,
    Math.min(o.intents ?? (Math.floor(total / 12) || 1), Math.floor((total - JUDGES) / 4)),
  );
  const perWorker = o.patchesPerWorker ?? 3;
  const run = Math.random().toString(36).slice(2, 6);
  // the roles: one lead per intent, four judges, the rest split among the three kinds of worker
  // (workers are spread over the intents: worker k serves intent k mod intents, named by a format)
  type Name = {
    id: string;
    role: 'lead' | 'judge' | 'test' | 'document' | 'review';
    group: number;
  };
  const names: Name[] = [];
  for (let i = 0; i < JUDGES; i++)
    names.push({ id: `demo-${run}-judge-${i + 1}`, role: 'judge', group: 0 });
  const kinds = ['test', 'document', 'review'] as const;
  const workers = total - intents - JUDGES;
  for (let i = 0; i < workers; i++) {
    const kind = kinds[i % 3]!;
    names.push({
      id: `demo-${run}-${kind}er-${Math.floor(i / 3) + 1}`,
      role: kind,
      group: Math.floor(i / 3) % intents,
    });
  }
  // the leads start last, so each hears the swarm by asking once
  for (let i = 0; i < intents; i++)
    names.push({ id: `demo-${run}-lead-${i + 1}`, role: 'lead', group: i });
  const groupFormat = (g: number): string => `intent-${g + 1}`;
  const keys = new Map(names.map((n) => [n.id, KeyPair.generate()]));

  const adminKey = await adminSigner(o.home);
  const admin = await RpcClient.connect({ path: socketPath(o.home) }, { login: adminKey });
  const agents: Agent[] = [];
  const jitnas: JitnaAgent[] = [];
  let patches = 0;
  let findings = 0;
  try {
    o.say(
      `registering ${total} agents (${intents} leads, ${JUDGES} judges, ${total - intents - JUDGES} workers)`,
    );
    for (const n of names)
      await admin.signedCall(
        'agent.add',
        {
          agent: n.id,
          public_key: Buffer.from(keys.get(n.id)!.publicKey).toString('hex'),
          role: 'agent',
        },
        adminKey,
      );
    // connect them a few at a time: each holds its own connections to jitd
    for (let i = 0; i < names.length; i += 16)
      agents.push(
        ...(await Promise.all(
          names.slice(i, i + 16).map((n) =>
            Agent.connect({
              agent: n.id,
              key: keys.get(n.id)!,
              plane: o.plane ?? socketPath(o.home),
              kernel: socketPath(o.home),
            }),
          ),
        )),
      );
    o.say(`${agents.length} agents connected; announcing capability cards`);
    const byId = new Map(agents.map((a) => [a.id, a]));
    const leads: JitnaAgent[] = [];
    for (const [i, n] of names.entries()) {
      const a = byId.get(n.id)!;
      const load = (i % 10) / 10;
      if (n.role === 'lead') {
        const j = await a.jitna();
        leads[n.group] = j;
        jitnas.push(j);
      } else if (n.role === 'judge') {
        jitnas.push(
          await a.jitna({
            solicit: false,
            capabilities: card('verify', [], 0.1),
            onProposal: verifierAnswer({
              signer: a.signer,
              model: `model-${(i % JUDGES) + 1}`,
              judge: async (_q, terms) => {
                const files = (await a.rpc!.call('shadow.files', {
                  id: terms.sws as string,
                })) as JsonMap;
                const n = Object.keys(files.files as JsonMap).length;
                return { vote: n > 0 ? 'agree' : 'disagree', reason: `${n} files staged` };
              },
            }),
          }),
        );
      } else {
        const role = n.role;
        jitnas.push(
          await a.jitna({
            solicit: false,
            capabilities: card(role, [groupFormat(n.group)], load),
            onProposal: () => ({
              accept: true,
              run: async (terms): Promise<JsonMap> => {
                const sws = terms.sws as string;
                const at = String(terms.slot ?? '0');
                if (role === 'review') {
                  findings++;
                  await a.analyze(sws, {
                    path: `demo/${at}/range.test.ts`,
                    severity: 'info',
                    message: `${a.id}: covers the empty range too?`,
                  });
                  return { paths: [], findings: 1 };
                }
                const path = role === 'test' ? `demo/${at}/range.test.ts` : `demo/${at}/range.md`;
                const lines: string[] = [];
                // several patches, one after another, each adding a line
                for (let k = 0; k < perWorker; k++) {
                  lines.push(
                    role === 'test' ? `// case ${k + 1} by ${a.id}` : `- note ${k + 1} by ${a.id}`,
                  );
                  await a.patch(sws, [put(path, `${lines.join('\n')}\n`)]);
                  patches++;
                }
                return { paths: [path] };
              },
            }),
          }),
        );
      }
    }
    // wait until each lead has heard the judges and a worker of each kind for its intent
    for (let i = 0; ; i++) {
      o.signal?.throwIfAborted();
      const heard = leads.every(
        (l, g) =>
          l.discover({ action: 'verify' }).length >= JUDGES &&
          kinds.every((k) => l.discover({ action: k, format: groupFormat(g) }).length >= 1),
      );
      if (heard) break;
      if (i > 1500) throw new Error('the swarm did not hear its own capability cards within 15 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    o.say(`every lead heard the swarm; running ${intents} intent${intents > 1 ? 's' : ''} at once`);
    const results = await Promise.all(
      leads.map(async (lead, i): Promise<DemoIntent> => {
        const agent = byId.get(`demo-${run}-lead-${i + 1}`)!;
        const assembler = await agent.assembler({ jitna: lead });
        const intent = instantiate('write-tests', { data: { target: `demo/${i + 1}/range.ts` } });
        const r = await assembler.assemble({
          intent,
          context: { demo: run, intent: i + 1 },
          fdia: { D: 0.9, I: 1.5, A: 1 },
          roles: [
            ...kinds.map((action) => ({
              action,
              format: groupFormat(i),
              terms: { slot: `${run}-${i + 1}` },
            })),
          ],
          risk: 'medium',
          message: `demo intent ${i + 1}: tests and docs for range`,
        });
        const line: DemoIntent = {
          intent: i + 1,
          outcome: r.outcome,
          sws: r.sws ?? null,
          agents: (r.agents ?? []).map((x) => x.id),
          quorum: r.verdict
            ? `tier ${r.verdict.tier}: ${r.verdict.agree} agree, ${r.verdict.disagree} disagree`
            : null,
          snapshot: r.snapshot ?? null,
          audit: r.audit.seq,
          failure: r.failure ? `${r.failure.step}: ${r.failure.reason}` : null,
        };
        o.say(
          `intent ${line.intent}: FDIA F=${r.fdia.F} ${r.fdia.allowed ? 'allowed' : 'blocked'}; ` +
            `${line.agents.join(', ') || 'nobody'} in SWS ${line.sws?.slice(0, 8) ?? '-'}; ` +
            `${line.quorum ?? 'no quorum'}; ${line.outcome}` +
            `${line.snapshot ? ` as ${line.snapshot.slice(0, 12)}` : ''}${line.failure ? ` (${line.failure})` : ''}; audit entry ${line.audit}`,
        );
        return line;
      }),
    );
    return { agents: total, intents: results, patches, findings, ms: performance.now() - started };
  } finally {
    for (const j of jitnas) await j.close().catch(() => undefined);
    for (const a of agents) await a.close().catch(() => undefined);
    for (const n of names)
      await admin.signedCall('agent.remove', { agent: n.id }, adminKey).catch(() => undefined);
    await admin.close();
  }
}
