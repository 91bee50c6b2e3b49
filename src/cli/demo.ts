import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminSigner } from '../identity/index.js';
import { ConnectionError, RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';
import { runDemoSwarm } from './demo-swarm.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const DEMO_HELP = `jit demo — a swarm to watch on the dashboard

Usage: jit demo [--agents N] [--intents K] [--stay] [--json]

Runs a JITNA swarm against the running jitd: agents announce capability cards; for each intent a
lead passes the FDIA gate, finds a tester, a writer and a critic by capability, negotiates with
each and makes them members of one shadow working set; the workers stage patches at once, the
critic adds a finding, four judges verify by quorum, the set collapses into a snapshot, and the
transaction is written to the audit trail. The demo's agents are added to the trust store for
the run and removed after it.

Without a running jitd it starts one on a temporary data directory, with its dashboard, and
stops it at the end (--stay: keeps it, and the dashboard, until Ctrl-C).

Options:
  --agents N    agents in the swarm, at least 8 (default 12)
  --intents K   intents at once, each with its own lead (default: one per 12 agents)
  --stay        keep the jitd this command started running until Ctrl-C
  --json        the summary as JSON on stdout (progress stays on stderr)
`;

/** The running jitd's dashboard and plane, or undefined when none answers. */
async function running(
  home: string,
): Promise<{ dashboard: string | null; plane: string } | undefined> {
  let c: RpcClient;
  try {
    c = await RpcClient.connect({ path: socketPath(home) });
  } catch (e) {
    if (e instanceof ConnectionError) return undefined;
    throw e;
  }
  try {
    await c.login(await adminSigner(home));
    const info = (await c.call('jit.info', {})) as {
      dashboard?: string | null;
      plane?: { url?: string };
    };
    return { dashboard: info.dashboard ?? null, plane: info.plane?.url ?? 'native' };
  } finally {
    await c.close();
  }
}

export async function demo(
  io: Io,
  home: string,
  json: boolean,
  o: { agents?: string; intents?: string; stay?: boolean },
  usage: (t: string) => number,
): Promise<number> {
  const count = (v: string | undefined, min: number): number | undefined | null => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= min && n <= 1000 ? n : null;
  };
  const agents = count(o.agents, 8);
  const intents = count(o.intents, 1);
  if (agents === null) return usage(`--agents takes a whole number from 8 to 1000\n\n${DEMO_HELP}`);
  if (intents === null)
    return usage(`--intents takes a whole number from 1 to 1000\n\n${DEMO_HELP}`);
  if (intents !== undefined && 4 * intents + 4 > (agents ?? 12))
    return usage(
      `--intents ${intents} needs --agents ${4 * intents + 4} or more (a lead and three workers each, and four judges)\n`,
    );
  let where = home;
  let own: { stop(): Promise<void>; dir: string } | undefined;
  const up = await running(home);
  let dashboard = up?.dashboard ?? null;
  // the agents talk on jitd's plane: its own relay, or the broker it listens on
  let plane: string | undefined = process.env.JIT_PLANE || undefined;
  if (plane === undefined && up !== undefined && up.plane !== 'native') {
    if (up.plane.includes(':***@'))
      return usage(
        `jitd listens on ${up.plane}; set JIT_PLANE to that URL with its password for the demo's agents\n`,
      );
    plane = up.plane;
  }
  if (up === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'jit-demo-'));
    io.err(`demo: no jitd at ${home}; starting one on ${dir}\n`);
    // the daemon (dashboard, metrics, logs) is loaded only when the demo starts one
    const { startJitd } = await import('../daemon/jitd.js');
    const j = await startJitd({ home: dir, dashboard: {} });
    own = { stop: () => j.stop(), dir };
    where = dir;
    dashboard = j.dashboardUrl ?? null;
  }
  io.err(
    dashboard
      ? `demo: watch it on the dashboard: ${dashboard}\n`
      : 'demo: this jitd runs without its dashboard (started with --no-dashboard)\n',
  );
  const t0 = performance.now();
  try {
    const r = await runDemoSwarm({
      home: where,
      ...(plane !== undefined && own === undefined ? { plane } : {}),
      ...(agents !== undefined ? { agents } : {}),
      ...(intents !== undefined ? { intents } : {}),
      say: (line) =>
        io.err(`demo: ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${line}\n`),
    });
    const committed = r.intents.filter((i) => i.outcome === 'completed').length;
    if (json) io.out(`${toJson({ ...r, committed, dashboard })}\n`);
    else
      io.out(
        `demo: ${r.agents} agents, ${r.intents.length} intents, ${committed} committed, ` +
          `${r.patches} patches, ${r.findings} findings in ${(r.ms / 1000).toFixed(1)} s\n`,
      );
    if (own && o.stay) {
      io.err(`demo: jitd stays up with its dashboard at ${dashboard}; Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return committed === r.intents.length ? Exit.OK : Exit.FOUND_PROBLEM;
  } finally {
    if (own) {
      await own.stop();
      await rm(own.dir, { recursive: true, force: true });
    }
  }
}
