import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '../../src/codec/index.js';
import {
  AccessDeniedError,
  CollapseConflictError,
  decodePatch,
  Kernel,
  PatchConflictError,
  PatchInputError,
  patchId,
  SwsNotFoundError,
  SwsStateError,
} from '../../src/kernel/index.js';
import { dec, enc, idBytes, patch, put, seedMain, text } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-kernel-');

async function fresh(): Promise<{ k: Kernel; dir: string }> {
  const dir = await tmp();
  return { k: await Kernel.open(dir), dir };
}

describe('kernel - shadow working sets', () => {
  it('a fresh kernel has main on an empty snapshot; an SWS reads through to its base', async () => {
    const { k } = await fresh();
    assert.ok(k.store.getRef('main'));
    await seedMain(k, { 'a.txt': 'A', 'dir/b.txt': 'B' });
    const { id, base_node } = await k.create({ ref: 'main', owner: 'alice' });
    assert.equal(base_node, k.store.getRef('main')?.target);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(await text(k, id, 'dir/b.txt'), 'B');
    assert.equal((await k.read(id, 'dir')).kind, 'dir');
    assert.equal((await k.read(id, 'nope')).kind, 'missing');
    await k.close();
  });

  it('every op: put, delete, move, edit, resolve; diff and status follow', async () => {
    const { k } = await fresh();
    await seedMain(k, { 'a.txt': 'one\ntwo\nthree\n', 'b.txt': 'B', 'c.txt': 'C' });
    const { id } = await k.create({ ref: 'main', owner: 'alice' });
    const a = (await k.read(id, 'a.txt')).blob!;
    await k.applyPatch(
      id,
      patch(
        put('new/n.txt', 'N'),
        { op: 'delete', path: 'b.txt' },
        { op: 'move', from: 'c.txt', to: 'moved/c.txt' },
        {
          op: 'edit',
          path: 'a.txt',
          base: idBytes(a),
          hunks: [{ start: 1, end: 2, lines: ['TWO'] }],
        },
      ) as never,
    );
    assert.equal(await text(k, id, 'a.txt'), 'one\nTWO\nthree\n');
    assert.equal(await text(k, id, 'b.txt'), null);
    assert.equal(await text(k, id, 'c.txt'), null);
    assert.equal(await text(k, id, 'moved/c.txt'), 'C');
    const diff = await k.diff(id);
    assert.deepEqual(
      diff.map((d) => [d.path, d.change]),
      [
        ['a.txt', 'modified'],
        ['b.txt', 'deleted'],
        ['c.txt', 'deleted'],
        ['moved/c.txt', 'added'],
        ['new/n.txt', 'added'],
      ],
    );
    const st = await k.status(id);
    assert.equal(st.state, 'ACTIVE');
    assert.equal(st.patches, 1);
    await k.close();
  });

  it('two SWSs never see each other; the branch does not move until a commit', async () => {
    const { k } = await fresh();
    const main = k.store.getRef('main')?.target;
    const x = (await k.create({ ref: 'main', owner: 'x' })).id;
    const y = (await k.create({ ref: 'main', owner: 'y' })).id;
    await k.applyPatch(x, patch(put('f', 'from x')) as never);
    assert.equal(await text(k, y, 'f'), null);
    assert.equal(k.store.getRef('main')?.target, main);
    await k.close();
  });

  it('expect: a mismatch refuses the whole patch and changes nothing', async () => {
    const { k } = await fresh();
    await seedMain(k, { f: 'v1' });
    const { id } = await k.create({ ref: 'main', owner: 'a' });
    const v1 = (await k.read(id, 'f')).blob!;
    const before = (await k.status(id)).digest;
    await assert.rejects(
      k.applyPatch(id, patch(put('g', 'g'), put('f', 'v2', 'ab'.repeat(32))) as never),
      PatchConflictError,
    );
    await assert.rejects(
      k.applyPatch(id, patch(put('f', 'v2', null)) as never),
      (e: unknown) => e instanceof PatchConflictError && e.code === 12,
    );
    assert.equal((await k.status(id)).digest, before);
    assert.equal(await text(k, id, 'g'), null, 'the first op of a refused patch is not applied');
    await k.applyPatch(id, patch(put('f', 'v2', v1)) as never);
    assert.equal(await text(k, id, 'f'), 'v2');
    await k.close();
  });

  it('bad patches are typed errors: unknown op, bad path, hunk out of range, delete of nothing', async () => {
    const { k } = await fresh();
    await seedMain(k, { f: 'x\n' });
    const { id } = await k.create({ ref: 'main', owner: 'a' });
    const f = (await k.read(id, 'f')).blob!;
    for (const bad of [
      { author: 'a', ops: [{ op: 'chmod', path: 'f' }] },
      { author: 'a', ops: [put('../etc/passwd', 'x')] },
      { author: 'a', ops: [put('/abs', 'x')] },
      { author: 'a', ops: [] },
      { ops: [put('f', 'x')] },
      {
        author: 'a',
        ops: [
          { op: 'edit', path: 'f', base: idBytes(f), hunks: [{ start: 5, end: 9, lines: [] }] },
        ],
      },
    ]) {
      await assert.rejects(
        k.applyPatch(id, bad as never),
        PatchInputError,
        JSON.stringify(bad).slice(0, 60),
      );
    }
    await assert.rejects(
      k.applyPatch(id, patch({ op: 'delete', path: 'nothing' }) as never),
      PatchConflictError,
    );
    await assert.rejects(
      k.applyPatch(id, patch(put('f/under-a-file', 'x')) as never),
      PatchConflictError,
    );
    await assert.rejects(
      k.applyPatch('00'.repeat(16), patch(put('f', 'x')) as never),
      SwsNotFoundError,
    );
    assert.equal((await k.status(id)).patches, 0);
    await k.close();
  });

  it('the patch id the kernel answers is BLAKE3 of the canonical patch (patchId)', async () => {
    const { k } = await fresh();
    const { id } = await k.create({ ref: 'main', owner: 'a' });
    const p = {
      ...patch(put('f', 'x'), { op: 'delete', path: 'f' }),
      note: 'n',
      nonce: new Uint8Array([1]),
    };
    const r = await k.applyPatch(id, p as never);
    assert.equal(r.patch_id, patchId(decodePatch(p as never)));
    await k.close();
  });

  it('idempotence: a patch, a commit and a discard delivered twice act once', async () => {
    const { k } = await fresh();
    const { id } = await k.create({ ref: 'main', owner: 'a' });
    const p = patch(put('f', 'x'));
    assert.equal((await k.applyPatch(id, p as never)).updated, true);
    const bytes = k.store.walBytes;
    assert.equal((await k.applyPatch(id, p as never)).updated, false);
    assert.equal(k.store.walBytes, bytes, 'a repeated patch writes nothing');
    const c1 = await k.commit(id, 'a');
    const c2 = await k.commit(id, 'a');
    assert.equal(c1.updated, true);
    assert.deepEqual({ ...c2, updated: true }, c1);
    const d = (await k.create({ ref: 'main', owner: 'a' })).id;
    assert.deepEqual(await k.discard(d, 'a'), { state: 'DISCARDED' });
    assert.deepEqual(await k.discard(d, 'a'), { state: 'DISCARDED' });
    await k.create({ ref: 'main', owner: 'a' });
    // the cheap counts (metrics, jit.info) agree with the full summary: one open of three
    const { active, total } = k.swsSummary();
    assert.deepEqual(k.swsCounts(), { active, total });
    assert.deepEqual(k.swsCounts(), { active: 1, total: 3 });
    await k.close();
  });

  it('only the owner or a named delegate may commit or discard; terminal SWSs take nothing', async () => {
    const { k } = await fresh();
    const { id } = await k.create({ ref: 'main', owner: 'alice', delegates: ['ci-bot'] });
    await k.applyPatch(id, patch(put('f', 'x')) as never);
    await assert.rejects(k.commit(id, 'mallory'), AccessDeniedError);
    await assert.rejects(k.discard(id, 'mallory'), AccessDeniedError);
    await k.commit(id, 'ci-bot');
    await assert.rejects(k.applyPatch(id, patch(put('g', 'y')) as never), SwsStateError);
    await assert.rejects(k.discard(id, 'alice'), SwsStateError);
    await k.close();
  });

  it('deleting a branch invalidates the active SWSs based on it, in one transaction that replays', async () => {
    const { k, dir } = await fresh();
    await seedMain(k, { f: 'F' });
    const main = k.store.getRef('main')!.target;
    await k.setRef({ name: 'feat', kind: 'branch', target: main });
    const a = (await k.create({ ref: 'feat', owner: 'alice' })).id;
    const b = (await k.create({ ref: 'feat', owner: 'bob' })).id;
    const done = (await k.create({ ref: 'feat', owner: 'bob' })).id;
    await k.discard(done, 'bob');
    const c = (await k.create({ ref: 'main', owner: 'carol' })).id;
    await k.applyPatch(a, patch(put('g', 'G')) as never);
    const { invalidated } = await k.deleteRef('feat');
    assert.deepEqual(invalidated, [a, b].sort(), 'the active ones on feat, in id order');
    for (const id of [a, b]) assert.equal((await k.status(id)).state, 'INVALIDATED');
    assert.equal((await k.status(done)).state, 'DISCARDED', 'a terminal SWS stays as it was');
    assert.equal((await k.status(c)).state, 'ACTIVE', 'other branches are untouched');
    await assert.rejects(k.applyPatch(a, patch(put('h', 'H')) as never), SwsStateError);
    await assert.rejects(k.commit(a, 'alice'), SwsStateError);
    await assert.rejects(k.discard(b, 'bob'), SwsStateError);
    // a branch made again under the name brings nothing back
    await k.setRef({ name: 'feat', kind: 'branch', target: main });
    assert.equal((await k.status(a)).state, 'INVALIDATED');
    assert.deepEqual(await k.deleteRef('feat'), { invalidated: [] });
    const digests = `${k.store.digest()} ${k.swsSummary().digest}`;
    await k.close();
    const again = await Kernel.open(dir);
    assert.equal(`${again.store.digest()} ${again.swsSummary().digest}`, digests);
    assert.equal((await again.status(b)).state, 'INVALIDATED');
    await again.close();
  });

  it('an edit on a stale base merges when lines differ, else holds the path conflicted until resolve', async () => {
    const { k } = await fresh();
    await seedMain(k, { f: '1\n2\n3\n4\n' });
    const { id } = await k.create({ ref: 'main', owner: 'a' });
    const base = idBytes((await k.read(id, 'f')).blob!);
    await k.applyPatch(
      id,
      patch({
        op: 'edit',
        path: 'f',
        base,
        hunks: [{ start: 0, end: 1, lines: ['ONE'] }],
      }) as never,
    );
    await k.applyPatch(
      id,
      patch({
        op: 'edit',
        path: 'f',
        base,
        hunks: [{ start: 3, end: 4, lines: ['FOUR'] }],
      }) as never,
    );
    assert.equal(await text(k, id, 'f'), 'ONE\n2\n3\nFOUR\n');
    await k.applyPatch(
      id,
      patch({
        op: 'edit',
        path: 'f',
        base,
        hunks: [{ start: 0, end: 1, lines: ['uno'] }],
      }) as never,
    );
    const r = await k.read(id, 'f');
    assert.equal(r.kind, 'conflict');
    assert.equal(r.candidates?.length, 2);
    await assert.rejects(k.applyPatch(id, patch(put('f', 'x')) as never), PatchConflictError);
    await assert.rejects(k.commit(id, 'a'), CollapseConflictError);
    assert.equal((await k.status(id)).state, 'ACTIVE');
    await k.applyPatch(
      id,
      patch({ op: 'resolve', path: 'f', content: enc('uno\n2\n3\nFOUR\n') }) as never,
    );
    await k.commit(id, 'a');
    const after = (await k.create({ ref: 'main', owner: 'a' })).id;
    assert.equal(await text(k, after, 'f'), 'uno\n2\n3\nFOUR\n');
    await k.close();
  });

  it('replay rebuilds every SWS and the store exactly (same digests)', async () => {
    const { k, dir } = await fresh();
    await seedMain(k, { f: 'a\nb\n' });
    const x = (await k.create({ ref: 'main', owner: 'x' })).id;
    const y = (await k.create({ ref: 'main', owner: 'y' })).id;
    await k.applyPatch(x, patch(put('g', 'G')) as never);
    await k.applyPatch(y, patch(put('h', 'H'), { op: 'delete', path: 'f' }) as never);
    await k.commit(x, 'x');
    await k.discard(y, 'y');
    const z = (await k.create({ ref: 'main', owner: 'z' })).id;
    await k.applyPatch(z, patch(put('z', 'Z')) as never);
    const digest = k.store.digest();
    const summary = k.swsSummary();
    const zs = await k.status(z);
    await k.close();
    const again = await Kernel.open(dir);
    assert.equal(again.store.digest(), digest);
    assert.deepEqual(again.swsSummary(), summary);
    assert.deepEqual(await again.status(z), zs);
    assert.equal(dec((await again.read(z, 'g')).content), 'G');
    await again.close();
  });

  it('a checkpoint carries working sets across a restart; fsck agrees live and offline', async () => {
    const { k, dir } = await fresh();
    await seedMain(k, { f: 'a\n' });
    const x = (await k.create({ ref: 'main', owner: 'x' })).id;
    await k.applyPatch(x, patch(put('g', 'G')) as never);
    await k.store.checkpoint();
    const y = (await k.create({ ref: 'main', owner: 'y' })).id;
    await k.applyPatch(y, patch(put('h', 'H')) as never);
    const sx = await k.status(x);
    const summary = k.swsSummary();
    assert.equal((await k.fsck()).ok, true);
    await k.store.checkpoint();
    await k.close();
    const again = await Kernel.open(dir);
    assert.equal(again.store.boot.checkpoint, 'used');
    assert.deepEqual(again.swsSummary(), summary);
    assert.deepEqual(await again.status(x), sx);
    assert.equal(await text(again, y, 'h'), 'H');
    const report = await again.fsck();
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    await again.close();
  });

  it('a checkpoint made while work goes on holds the state of its offset; the work after it replays', async () => {
    const { k, dir } = await fresh();
    await seedMain(k, { f: 'a\n' });
    const x = (await k.create({ ref: 'main', owner: 'x' })).id;
    const y = (await k.create({ ref: 'main', owner: 'y' })).id;
    await k.applyPatch(x, patch(put('g', 'G')) as never);
    await k.applyPatch(y, patch(put('h', 'H')) as never);
    await k.setAcl([{ effect: 'allow', who: 'x', action: 'publish', resource: 'jit.>' }]);
    // between the moment the checkpoint takes the state and the making of its bytes, every kind
    // of change lands: more patches, a finding, a member, a collapse, a new SWS, new nodes
    const take = k.store.checkpointExtension!;
    let z = '';
    k.store.checkpointExtension = () => {
      const make = take();
      return async (pause) => {
        await k.applyPatch(x, patch(put('g2', 'G2')) as never);
        await k.annotate(x, {
          author: 'lint',
          path: 'g',
          range: null,
          severity: 'info',
          message: 'late',
        });
        await k.setMember(x, 'm', true, null);
        await k.commit(y, 'y', 'late commit');
        z = (await k.create({ ref: 'main', owner: 'z' })).id;
        await k.setAcl([]);
        return make(pause);
      };
    };
    await k.store.checkpoint();
    assert.notEqual(z, '', 'the late work ran inside the checkpoint');
    const summary = k.swsSummary();
    const sx = await k.status(x);
    await k.close();
    const again = await Kernel.open(dir);
    assert.equal(again.store.boot.checkpoint, 'used');
    assert.ok(again.store.boot.replayed > 0, 'the late work came from the log');
    assert.deepEqual(again.swsSummary(), summary);
    assert.deepEqual(await again.status(x), sx);
    assert.equal((await again.status(y)).state, 'COLLAPSED');
    const report = await again.fsck();
    assert.equal(report.ok, true, JSON.stringify(report.checks));
    await again.close();
  });

  it('fsck fails when the state booted from a checkpoint disagrees with the log', async () => {
    const { k, dir } = await fresh();
    const x = (await k.create({ ref: 'main', owner: 'x' })).id;
    await k.applyPatch(x, patch(put('g', 'G')) as never);
    // a checkpoint whose SWS table forgot x: what the bug fixed here used to produce
    k.store.checkpointExtension = () => async () => [encode([null, []])];
    await k.store.checkpoint();
    await k.close();
    const bad = await Kernel.open(dir);
    const report = await bad.fsck();
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.filter((c) => !c.ok).map((c) => c.name),
      ['replay equality: working sets'],
    );
    await bad.close();
  });
});
