import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CborValue } from '../../src/codec/index.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner } from '../../src/identity/index.js';
import { RemoteError, RpcClient } from '../../src/rpc/index.js';
import { socketPath } from '../../src/util/home.js';
import { enc } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-ops-');
let jitd: Jitd;
let c: RpcClient;

before(async () => {
  jitd = await startJitd({ home: await tmp() });
  c = await RpcClient.connect(
    { path: socketPath(jitd.home) },
    { login: await adminSigner(jitd.home) },
  );
});
after(async () => {
  await c.close();
  await jitd.stop();
});

type R = Record<string, CborValue>;
const call = async (op: string, payload: CborValue): Promise<R> => (await c.call(op, payload)) as R;

async function refused(op: string, payload: CborValue, code: number): Promise<void> {
  const digest = jitd.kernel.store.digest();
  const sws = jitd.kernel.swsSummary().digest;
  await assert.rejects(c.call(op, payload), (e: unknown) => {
    assert.ok(e instanceof RemoteError, String(e));
    assert.equal(e.code, code, `${op}: ${e.message}`);
    return true;
  });
  assert.equal(jitd.kernel.store.digest(), digest, `${op} changed the store`);
  assert.equal(jitd.kernel.swsSummary().digest, sws, `${op} changed an SWS`);
}

describe('rpc - kernel operations end to end', () => {
  it('create, patch, read, diff, status, list, validate, commit (and its alias), log through dag ops', async () => {
    const created = await call('shadow.create', { ref: 'main', owner: 'alice' });
    const id = created.id as string;
    const base_node = created.base_node as string;
    assert.equal(typeof id, 'string');
    const ap = await call('shadow.apply_patch', {
      id,
      patch: { author: 'alice', ops: [{ op: 'put', path: 'hello.txt', content: enc('hi\n') }] },
    });
    assert.equal(ap.updated, true);
    const read = await call('shadow.read', { id, path: 'hello.txt' });
    assert.equal(new TextDecoder().decode(read.content as Uint8Array), 'hi\n');
    assert.equal(((await call('shadow.diff', { id })).changes as R[])[0]!.change, 'added');
    const status = await call('shadow.status', { id });
    assert.equal(status.state, 'ACTIVE');
    const listed = ((await call('shadow.list', {})).sws as R[]).find((s) => s.id === id);
    // the list describes it as status does, less the digests (they cost time per patch)
    assert.ok(listed !== undefined);
    const { digest, content_digest, ...rest } = status;
    assert.match(String(digest), /^[0-9a-f]{64}$/);
    assert.match(String(content_digest), /^[0-9a-f]{64}$/);
    assert.deepStrictEqual(listed, rest);
    assert.equal((await call('collapse.validate', { id, agent: 'alice' })).ok, true);
    const done = await call('collapse.commit', { id, agent: 'alice', message: 'say hi' });
    assert.equal(done.updated, true);
    assert.deepEqual(
      { ...(await call('shadow.commit', { id, agent: 'alice' })), updated: true },
      done,
    );
    const main = await call('ref.get', { name: 'main' });
    assert.equal(main.target, done.snapshot);
    const snap = await call('dag.get_node', { id: done.snapshot as string });
    assert.equal(snap.type, 'snapshot');
    assert.deepEqual((await call('dag.get_parents', { id: done.snapshot as string })).parents, [
      base_node,
    ]);
    assert.deepEqual(
      (await call('dag.lineage', { id: done.snapshot as string, depth: 1 })).ancestors,
      [base_node],
    );
    assert.ok(
      ((await call('dag.subgraph', { root: done.snapshot as string })).nodes as string[]).includes(
        base_node as string,
      ),
    );
  });

  it('refs: branch, tag, fast-forward only unless forced, delete', async () => {
    const main = (await call('ref.get', { name: 'main' })).target as string;
    const parent = ((await call('dag.get_parents', { id: main })).parents as string[])[0]!;
    await call('ref.create_branch', { name: 'feature', target: parent });
    await call('ref.set', { name: 'feature', target: main });
    await refused('ref.set', { name: 'feature', target: parent }, 6);
    await call('ref.set', { name: 'feature', target: parent, force: true });
    await call('ref.create_tag', { name: 'v1', target: main });
    await refused('ref.create_tag', { name: 'v1', target: parent }, 6);
    await refused('ref.create_branch', { name: 'feature', target: main }, 6);
    await call('ref.delete', { name: 'feature' });
    await refused('ref.get', { name: 'feature' }, 5);
    assert.deepEqual(
      ((await call('ref.list', {})).refs as R[]).map((r) => r.name),
      ['main', 'v1'],
    );
  });

  it('each refusal carries its code and changes nothing', async () => {
    const id = (await call('shadow.create', { ref: 'main', owner: 'bob' })).id as string;
    await refused('shadow.apply_patch', { id, patch: { author: 'bob', ops: [{ op: 'nope' }] } }, 2);
    await refused(
      'shadow.apply_patch',
      {
        id,
        patch: {
          author: 'bob',
          ops: [{ op: 'put', path: 'hello.txt', content: enc('x'), expect: null }],
        },
      },
      12,
    );
    await refused(
      'shadow.apply_patch',
      { id: 'ff'.repeat(16), patch: { author: 'b', ops: [] } },
      2,
    );
    await refused('shadow.status', { id: 'ff'.repeat(16) }, 5);
    await refused('shadow.commit', { id, agent: 'mallory' }, 8);
    await refused('shadow.create', { ref: 'nope', owner: 'bob' }, 5);
    await refused('shadow.create', { owner: '' }, 2);
    await refused('dag.get_node', { id: 'ab'.repeat(32) }, 5);
    await refused('dag.get_node', { id: 'xyz' }, 2);
    await refused('shadow.read', 'not a map', 2);
    // a conflict at collapse: E_COLLAPSE_FAIL, SWS left ACTIVE
    const other = (await call('shadow.create', { ref: 'main', owner: 'carol' })).id as string;
    const put = (sws: CborValue, who: string, text: string) =>
      call('shadow.apply_patch', {
        id: sws,
        patch: { author: who, ops: [{ op: 'put', path: 'hello.txt', content: enc(text) }] },
      });
    await put(other, 'carol', 'carol\n');
    await put(id, 'bob', 'bob\n');
    await call('shadow.commit', { id: other, agent: 'carol' });
    await refused('shadow.commit', { id, agent: 'bob' }, 10);
    assert.equal((await call('shadow.status', { id })).state, 'ACTIVE');
    await call('shadow.discard', { id, agent: 'bob' });
    await refused(
      'shadow.apply_patch',
      { id, patch: { author: 'bob', ops: [{ op: 'put', path: 'z', content: enc('z') }] } },
      9,
    );
  });
});
