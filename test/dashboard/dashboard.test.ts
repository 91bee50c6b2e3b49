import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import { RemoteError } from '../../src/rpc/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { parseExposition } from '../helpers/prometheus.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-dash-');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const keys = { alice: KeyPair.generate(), bob: KeyPair.generate(), lint: KeyPair.generate() };
let jitd: Jitd;
let base: string;
const agents: Agent[] = [];

before(async () => {
  jitd = await startJitd({ home: await tmp(), dashboard: { port: 0 } });
  assert.ok(jitd.dashboardUrl !== undefined);
  base = jitd.dashboardUrl!;
  await registerAgents(jitd.home, Object.entries(keys));
});
after(async () => {
  for (const a of agents) await a.close();
  await jitd.stop();
});

async function connect(agent: keyof typeof keys): Promise<Agent> {
  const a = await Agent.connect({ agent, key: keys[agent], plane: socketPath(jitd.home) });
  agents.push(a);
  return a;
}

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(new URL(path, base));
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return (await r.json()) as T;
}

type Ev = { n: number; type: string; sws?: string; op?: string; by?: string | null };
const eventsOf = (s: SseStream): Ev[] =>
  s.events.filter((e) => e.event === 'events').flatMap((e) => JSON.parse(e.data) as Ev[]);

describe('the dashboard beside jitd', () => {
  it('streams numbered events as agents open, patch, annotate and commit; the reads agree', async () => {
    const sse = await openSse(new URL('/api/events', base).href);
    try {
      const hello = await sse.next((e) => e.event === 'hello');
      const from = Number(hello.data);
      const alice = await connect('alice');
      const lint = await connect('lint');
      const sws = await alice.openSws();
      await alice.addMember(sws, 'lint');
      await alice.patch(sws, [{ op: 'put', path: 'a.txt', content: enc('one\ntwo\n') }]);
      await lint.analyze(sws, { path: 'a.txt', severity: 'warning', message: 'two is vague' });
      // each patch shows as it lands, before any reload
      await sse.next(
        (e) => e.event === 'events' && eventsOf(sse).some((x) => x.op === 'apply_patch'),
      );
      const status = await getJson<{ patches: number; annotations: unknown[]; state: string }>(
        `/api/sws/${sws}`,
      );
      assert.equal(status.patches, 1);
      assert.equal(status.annotations.length, 1);
      assert.equal(status.state, 'ACTIVE');
      const diff = await getJson<{ change: string; lines: { op: string; text: string }[] }>(
        `/api/sws/${sws}/diff?path=a.txt`,
      );
      assert.equal(diff.change, 'added');
      assert.deepEqual(
        diff.lines.map((l) => `${l.op}${l.text}`),
        ['+one', '+two', '+'],
      );
      const committed = (await alice.commit(sws, { message: 'from the test' })) as {
        snapshot: string;
      };
      await sse.next(() => eventsOf(sse).some((x) => x.type === 'ref'));
      const evs = eventsOf(sse);
      // numbered from where the stream said it stood, with no gap
      assert.deepEqual(
        evs.map((e) => e.n),
        evs.map((_, i) => from + 1 + i),
      );
      const mine = evs
        .filter((e) => e.type === 'sws' && e.sws === sws)
        .map((e) => `${e.op} ${e.by}`);
      assert.deepEqual(mine, [
        'create alice',
        'add_member alice',
        'apply_patch alice',
        'annotate lint',
        'commit alice',
      ]);
      // the finding as published on the plane, heard before the kernel recorded it
      const finding = evs.findIndex((e) => e.type === 'finding' && e.sws === sws);
      assert.ok(finding >= 0 && finding < evs.findIndex((e) => e.op === 'annotate'));
      const { nodes } = await getJson<{
        nodes: { id: string; refs: string[]; message: string | null }[];
      }>('/api/history');
      assert.equal(nodes[0]!.id, committed.snapshot);
      assert.deepEqual(nodes[0]!.refs, ['main']);
      assert.equal(nodes[0]!.message, 'from the test');
      assert.equal(nodes.length, 2); // and the initial snapshot
    } finally {
      sse.close();
    }
  });

  it('/metrics parses as Prometheus text and counts what happened: patches, commits, conflicts, refusals, WAL syncs', async () => {
    const scrape = async () => {
      const r = await fetch(new URL('/metrics', base));
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parseExposition(await r.text());
    };
    const before = await scrape();
    const v = (m: typeof before, name: string, labels?: Record<string, string>) =>
      m.value(name, labels) ?? 0;
    const bob = await connect('bob');
    const a = await bob.openSws();
    const b = await bob.openSws();
    await bob.patch(a, [{ op: 'put', path: 'c.txt', content: enc('bob a\n') }]);
    await bob.patch(b, [{ op: 'put', path: 'c.txt', content: enc('bob b\n') }]);
    await bob.patch(b, [{ op: 'put', path: 'd.txt', content: enc('d\n') }]);
    await bob.commit(a);
    await assert.rejects(bob.commit(b), RemoteError); // both added c.txt: a conflict
    // a patch with a path that is not relative fails with a typed error, counted by its code
    await assert.rejects(
      bob.patch(b, [{ op: 'put', path: '../x', content: enc('x') }]),
      RemoteError,
    );
    const after = await scrape();
    assert.equal(v(after, 'jit_kernel_patches_total') - v(before, 'jit_kernel_patches_total'), 3);
    assert.equal(v(after, 'jit_kernel_commits_total') - v(before, 'jit_kernel_commits_total'), 1);
    assert.equal(
      v(after, 'jit_kernel_conflicts_total') - v(before, 'jit_kernel_conflicts_total'),
      1,
    );
    assert.equal(
      v(after, 'jit_rpc_errors_total', { op: 'shadow.commit', code: 'E_COLLAPSE_FAIL' }) -
        v(before, 'jit_rpc_errors_total', { op: 'shadow.commit', code: 'E_COLLAPSE_FAIL' }),
      1,
    );
    assert.equal(
      v(after, 'jit_rpc_errors_total', { op: 'shadow.apply_patch', code: 'E_BAD_PAYLOAD' }) -
        v(before, 'jit_rpc_errors_total', { op: 'shadow.apply_patch', code: 'E_BAD_PAYLOAD' }),
      1,
    );
    assert.equal(after.types.get('jit_rpc_duration_seconds'), 'histogram');
    const count = v(after, 'jit_rpc_duration_seconds_count', { op: 'shadow.apply_patch' });
    assert.ok(count >= 3);
    assert.equal(
      v(after, 'jit_rpc_duration_seconds_bucket', { op: 'shadow.apply_patch', le: '+Inf' }),
      count,
    );
    // buckets are cumulative, in the order of their bounds, and each call is in one
    const buckets = after.samples.filter(
      (x) => x.name === 'jit_rpc_duration_seconds_bucket' && x.labels.op === 'shadow.apply_patch',
    );
    assert.equal(buckets.length, 15);
    const le = (x: (typeof buckets)[number]) =>
      x.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(x.labels.le);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(le(buckets[i]!) > le(buckets[i - 1]!));
      assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    }
    assert.ok(v(after, 'jit_rpc_duration_seconds_sum', { op: 'shadow.apply_patch' }) > 0);
    // requests count answers and refusals alike: three patches and the refused one
    assert.equal(
      v(after, 'jit_rpc_requests_total', { op: 'shadow.apply_patch' }) -
        v(before, 'jit_rpc_requests_total', { op: 'shadow.apply_patch' }),
      4,
    );
    // every group commit is timed
    assert.ok(v(after, 'jit_wal_syncs_total') > v(before, 'jit_wal_syncs_total'));
    assert.equal(
      v(after, 'jit_wal_sync_seconds_count') - v(before, 'jit_wal_sync_seconds_count'),
      v(after, 'jit_wal_syncs_total') - v(before, 'jit_wal_syncs_total'),
    );
    assert.equal(v(after, 'jit_transport_up', { transport: 'native' }), 1);
    assert.ok(v(after, 'jit_plane_delivered_total') > v(before, 'jit_plane_delivered_total'));
    assert.ok(v(after, 'jit_sws_active') >= 1);
    assert.ok(v(after, 'jit_dag_nodes') > 3);
  });

  it('the audit view verifies the chain, and names the kernel signer', async () => {
    const c = await connect('alice');
    await c.rpc!.call('audit.append', { event: { type: 'note', text: 'dashboard test' } });
    const a = await getJson<{
      verified: boolean;
      count: number;
      recent: { by: string; signer: string }[];
    }>('/api/audit');
    assert.equal(a.verified, true);
    assert.equal(a.count, 1);
    assert.equal(a.recent[0]!.by, 'alice');
    assert.equal(a.recent[0]!.signer, 'jit-kernel');
  });

  it('is read only, answers only as 127.0.0.1, and says what is wrong', async () => {
    const r = await fetch(new URL('/api/sws/abc/discard', base), {
      method: 'POST',
      headers: { 'x-jit-action': '1' },
    });
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { error: string }).error, /read only.*--dashboard-actions/);
    const port = new URL(base).port;
    const rebound = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(
          { host: '127.0.0.1', port, path: '/api/info', headers: { host: `evil.example:${port}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        ).on('error', reject),
      );
    });
    assert.equal(rebound, 421);
    const missing = await fetch(new URL(`/api/node/${'0'.repeat(64)}`, base));
    assert.equal(missing.status, 404);
    const nothing = await fetch(new URL('/api/nothing', base));
    assert.equal(nothing.status, 404);
  });
});

describe('the dashboard with actions allowed', () => {
  it('discards an SWS through the same RPC and ACL as the CLI, and refuses a request without the action header', async () => {
    const j = await startJitd({ home: await tmp(), dashboard: { port: 0, actions: true } });
    try {
      const url = j.dashboardUrl!;
      const r0 = await fetch(new URL('/api/info', url));
      assert.equal(((await r0.json()) as { actions: boolean }).actions, true);
      // an SWS owned by the admin (the CLI's login, which the dashboard acts as)
      const { withClient } = await import('../../src/cli/connect.js');
      const id = await withClient(
        j.home,
        async (c) => ((await c.call('shadow.create', { owner: 'admin' })) as { id: string }).id,
      );
      const forged = await fetch(new URL(`/api/sws/${id}/discard`, url), { method: 'POST' });
      assert.equal(forged.status, 403);
      const r = await fetch(new URL(`/api/sws/${id}/discard`, url), {
        method: 'POST',
        headers: { 'x-jit-action': '1' },
      });
      const body = (await r.json()) as Record<string, unknown>;
      assert.equal(r.status, 200, JSON.stringify(body));
      const st = await fetch(new URL(`/api/sws/${id}`, url));
      assert.equal(((await st.json()) as { state: string }).state, 'DISCARDED');
    } finally {
      await j.stop();
    }
  });
});
