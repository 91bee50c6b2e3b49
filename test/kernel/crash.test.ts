import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import type { CborValue } from '../../src/codec/index.js';
import { adminSigner } from '../../src/identity/index.js';
import { RemoteError, RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';
import { enc } from '../helpers/kernel.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-kcrash-');
const jitdBin = new URL('../../src/bin/jitd.js', import.meta.url).pathname;
const children = new Set<ChildProcess>();
after(() => {
  for (const p of children) p.kill('SIGKILL');
});

function start(home: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [jitdBin, '--home', home], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(p);
    let err = '';
    p.stderr!.on('data', (d) => {
      err += String(d);
    });
    createInterface({ input: p.stdout! }).once('line', () => resolve(p));
    p.once('exit', (code) => {
      children.delete(p);
      reject(new Error(`jitd exited ${code}: ${err}`));
    });
  });
}

type Obj = Record<string, CborValue>;
interface Acked {
  patches: { sws: string; patch: CborValue; id: string }[];
  commits: { sws: string; snapshot: string }[];
}

/** One agent: its own SWS, a patch at a time, a commit every few patches, until the kernel dies. */
async function agent(
  c: RpcClient,
  name: string,
  acked: Acked,
  r: ReturnType<typeof rng>,
): Promise<void> {
  let sws: string | undefined;
  let n = 0;
  for (;;) {
    try {
      if (sws === undefined)
        sws = ((await c.call('shadow.create', { ref: 'main', owner: name })) as Obj).id as string;
      const patch = {
        author: name,
        ops: [
          {
            op: 'put',
            path: `${name}/f${n++ % 7}.txt`,
            content: enc(`${name} ${n} ${r.int(1e9)}\n`),
          },
        ],
      };
      const res = (await c.call('shadow.apply_patch', { id: sws, patch })) as Obj;
      acked.patches.push({ sws, patch, id: res.patch_id as string });
      if (n % 4 === 0) {
        const done = (await c.call('shadow.commit', { id: sws, agent: name })) as Obj;
        acked.commits.push({ sws, snapshot: done.snapshot as string });
        sws = undefined;
      }
    } catch (e) {
      if (e instanceof RemoteError) throw e; // a refusal is a bug here: only the kill may stop us
      return;
    }
  }
}

describe('kernel - crash recovery of jitd under SIGKILL with 8 clients', () => {
  it('every acknowledged patch and commit survives; fsck passes after each restart', {
    timeout: 900_000,
  }, async () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'kernel/crash');
    const home = await tmp();
    const acked: Acked = { patches: [], commits: [] };
    const kills = iterations(3, 50);
    for (let k = 0; k < kills; k++) {
      const fromPatch = acked.patches.length;
      const fromCommit = acked.commits.length;
      const p = await start(home);
      const login = await adminSigner(home);
      const clients = await Promise.all(
        Array.from({ length: 8 }, () => RpcClient.connect({ path: socketPath(home) }, { login })),
      );
      const running = clients.map((c, i) => agent(c, `agent${i}`, acked, r));
      await new Promise((res) => setTimeout(res, 150 + r.int(500)));
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGKILL');
      await exited;
      await Promise.all(running);
      await Promise.all(clients.map((c) => c.close()));

      const q = await start(home);
      const c = await RpcClient.connect(
        { path: socketPath(home) },
        { login: await adminSigner(home) },
      );
      try {
        const main = ((await c.call('ref.get', { name: 'main' })) as Obj).target as string;
        const history = new Set([
          main,
          ...(((await c.call('dag.lineage', { id: main })) as Obj).ancestors as string[]),
        ]);
        // everything acknowledged since the last kill, and a seeded sample of what came before
        const sample = <T>(xs: T[], from: number): T[] => [
          ...Array.from({ length: Math.min(from, 300) }, () => xs[r.int(from)]!),
          ...xs.slice(from),
        ];
        for (const x of sample(acked.commits, fromCommit)) {
          const st = (await c.call('shadow.status', { id: x.sws })) as Obj;
          assert.equal(
            st.state,
            'COLLAPSED',
            `acknowledged commit of ${x.sws} lost after kill ${k}; ${hint}`,
          );
          assert.equal((st.result as Obj).snapshot, x.snapshot, hint);
          assert.ok(
            history.has(x.snapshot),
            `snapshot ${x.snapshot} is not on main after kill ${k}; ${hint}`,
          );
        }
        for (const x of sample(acked.patches, fromPatch)) {
          const st = (await c.call('shadow.status', { id: x.sws })) as Obj;
          if (st.state === 'ACTIVE') {
            const again = (await c.call('shadow.apply_patch', {
              id: x.sws,
              patch: x.patch,
            })) as Obj;
            assert.equal(
              again.updated,
              false,
              `acknowledged patch ${x.id} missing after kill ${k}; ${hint}`,
            );
          } else {
            assert.equal(st.state, 'COLLAPSED', hint);
            const snap = (await c.call('dag.get_node', {
              id: (st.result as Obj).snapshot as string,
            })) as Obj;
            const ids = ((snap.payload as Obj).patches as Uint8Array[]).map((b) =>
              Buffer.from(b).toString('hex'),
            );
            assert.ok(
              ids.includes(x.id),
              `acknowledged patch ${x.id} is not in the snapshot of ${x.sws}; ${hint}`,
            );
          }
        }
        const fsck = (await c.call('jit.fsck', {})) as Obj;
        assert.equal(
          fsck.ok,
          true,
          `fsck after kill ${k}: ${JSON.stringify(fsck.checks)}; ${hint}`,
        );
      } finally {
        await c.close();
        const gone = new Promise((res) => q.once('exit', res));
        q.kill('SIGTERM');
        await gone;
      }
    }
    assert.ok(
      acked.patches.length > 0 && acked.commits.length > 0,
      `the agents did no work; ${hint}`,
    );
  });
});
