import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CollapseConflictError, Kernel } from '../../src/kernel/index.js';
import { enc, idBytes, patch, put, seedMain, text } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-merge-');

/**
 * Two SWSs from one base: `theirs` commits first (moving main), then `ours` commits on the moved
 * head. Returns the kernel and the result of our commit (or the conflict error).
 */
async function race(
  files: Record<string, string>,
  theirs: (k: Kernel, id: string) => Promise<unknown>,
  ours: (k: Kernel, id: string) => Promise<unknown>,
): Promise<{
  k: Kernel;
  ours: string;
  result: Awaited<ReturnType<Kernel['commit']>> | CollapseConflictError;
}> {
  const k = await Kernel.open(await tmp());
  await seedMain(k, files);
  const t = (await k.create({ ref: 'main', owner: 't' })).id;
  const o = (await k.create({ ref: 'main', owner: 'o' })).id;
  await theirs(k, t);
  await k.commit(t, 't');
  await ours(k, o);
  try {
    return { k, ours: o, result: await k.commit(o, 'o') };
  } catch (e) {
    if (e instanceof CollapseConflictError) return { k, ours: o, result: e };
    throw e;
  }
}

async function mainText(k: Kernel, path: string): Promise<string | null> {
  const id = (await k.create({ ref: 'main', owner: 'reader' })).id;
  return text(k, id, path);
}

/** Edits lines [start, end) of `path` in an SWS, against what the SWS holds now. */
async function edit(
  k: Kernel,
  id: string,
  path: string,
  start: number,
  end: number,
  lines: string[],
): Promise<void> {
  const base = idBytes((await k.read(id, path)).blob!);
  await k.applyPatch(
    id,
    patch({ op: 'edit', path, base, hunks: [{ start, end, lines }] }) as never,
  );
}

function conflictKinds(r: unknown): string[] {
  assert.ok(
    r instanceof CollapseConflictError,
    `expected a collapse conflict, got ${JSON.stringify(r)}`,
  );
  return r.conflicts.map((c) => `${c.path}:${c.kind}`);
}

describe('kernel - collapse merge table (the branch moved under the SWS)', () => {
  it('disjoint paths: both kept; one snapshot plus one rewrite node', async () => {
    const { k, result } = await race(
      { a: 'a', b: 'b' },
      (k, t) => k.applyPatch(t, patch(put('a', 'A')) as never),
      (k, o) => k.applyPatch(o, patch(put('b', 'B')) as never),
    );
    assert.ok(!(result instanceof CollapseConflictError));
    assert.ok(result.rewrite !== null);
    assert.equal(k.store.reader.info(result.rewrite).type, 'rewrite');
    assert.deepEqual(k.store.reader.parents(result.snapshot), [
      k.store.reader.parents(result.snapshot)[0],
    ]);
    assert.equal(await mainText(k, 'a'), 'A');
    assert.equal(await mainText(k, 'b'), 'B');
    await k.close();
  });

  it('one file, different lines: merged line by line', async () => {
    const { k, result } = await race(
      { f: '1\n2\n3\n4\n' },
      (k, t) => edit(k, t, 'f', 0, 1, ['ONE']),
      (k, o) => edit(k, o, 'f', 3, 4, ['FOUR']),
    );
    assert.ok(!(result instanceof CollapseConflictError));
    assert.equal(await mainText(k, 'f'), 'ONE\n2\n3\nFOUR\n');
    await k.close();
  });

  it('identical changes are taken once', async () => {
    const same = (k: Kernel, id: string) =>
      k.applyPatch(id, patch(put('f', 'same'), put('g', 'new')) as never);
    const { k, result } = await race({ f: 'old' }, same, same);
    assert.ok(!(result instanceof CollapseConflictError));
    assert.equal(await mainText(k, 'f'), 'same');
    assert.equal(await mainText(k, 'g'), 'new');
    await k.close();
  });

  it('overlapping edits conflict; the SWS stays ACTIVE; a resolve settles it', async () => {
    const { k, ours, result } = await race(
      { f: '1\n2\n3\n' },
      (k, t) => edit(k, t, 'f', 1, 2, ['theirs']),
      (k, o) => edit(k, o, 'f', 1, 2, ['ours']),
    );
    assert.deepEqual(conflictKinds(result), ['f:content']);
    assert.equal((await k.status(ours)).state, 'ACTIVE');
    assert.equal(await mainText(k, 'f'), '1\ntheirs\n3\n', 'a failed collapse writes nothing');
    assert.deepEqual((await k.validate(ours, 'o')).conflicts, [{ path: 'f', kind: 'content' }]);
    await k.applyPatch(
      ours,
      patch({ op: 'resolve', path: 'f', content: enc('1\nboth\n3\n') }) as never,
    );
    assert.equal((await k.validate(ours, 'o')).ok, true);
    await k.commit(ours, 'o');
    assert.equal(await mainText(k, 'f'), '1\nboth\n3\n');
    await k.close();
  });

  it('modify/delete and move/edit conflict', async () => {
    const del = await race(
      { f: 'x' },
      (k, t) => k.applyPatch(t, patch({ op: 'delete', path: 'f' }) as never),
      (k, o) => k.applyPatch(o, patch(put('f', 'y')) as never),
    );
    assert.deepEqual(conflictKinds(del.result), ['f:modify/delete']);
    await del.k.close();
    const mv = await race(
      { f: '1\n2\n' },
      (k, t) => edit(k, t, 'f', 0, 1, ['one']),
      (k, o) => k.applyPatch(o, patch({ op: 'move', from: 'f', to: 'g' }) as never),
    );
    assert.deepEqual(conflictKinds(mv.result), ['f:modify/delete']);
    await mv.k.close();
  });

  it('add/add with different content, binary files, and file/directory clashes conflict', async () => {
    const add = await race(
      {},
      (k, t) => k.applyPatch(t, patch(put('n', 'theirs')) as never),
      (k, o) => k.applyPatch(o, patch(put('n', 'ours')) as never),
    );
    assert.deepEqual(conflictKinds(add.result), ['n:add/add']);
    await add.k.close();
    const bin = (b: number) => (k: Kernel, id: string) =>
      k.applyPatch(
        id,
        patch({ op: 'put', path: 'img', content: new Uint8Array([0, 1, b]) }) as never,
      );
    const b = await race({ img: 'seed' }, bin(2), bin(3));
    await b.k.close();
    // the seed is text, both sides turned it binary differently
    assert.deepEqual(conflictKinds(b.result), ['img:binary']);
    const fd = await race(
      { x: 'x' },
      (k, t) => k.applyPatch(t, patch(put('d', 'a file')) as never),
      (k, o) => k.applyPatch(o, patch(put('d/inner', 'in a dir')) as never),
    );
    assert.deepEqual(conflictKinds(fd.result), ['d/inner:file/directory']);
    await fd.k.close();
  });
});
