import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kernel, PatchInputError } from '../../src/kernel/index.js';
import { patch, put } from '../helpers/kernel.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-annotate-');

describe('findings on an SWS', () => {
  it('are recorded in order, survive a restart (log and checkpoint), and go into the snapshot', async () => {
    const home = await tmp();
    let k = await Kernel.open(home);
    const { id } = await k.create({ ref: 'main', owner: 'human' });
    await k.applyPatch(id, patch(put('src/a.ts', 'let x = 1\n')) as never);
    await k.annotate(id, {
      author: 'lint',
      path: 'src/a.ts',
      range: [1, 1],
      severity: 'warning',
      message: 'unused x',
    });
    await k.annotate(id, {
      author: 'sec',
      path: 'src/a.ts',
      range: null,
      severity: 'info',
      message: 'ok',
    });
    const before = await k.status(id);
    assert.deepEqual(before.annotations, [
      { author: 'lint', path: 'src/a.ts', range: [1, 1], severity: 'warning', message: 'unused x' },
      { author: 'sec', path: 'src/a.ts', range: null, severity: 'info', message: 'ok' },
    ]);
    await k.close();
    k = await Kernel.open(home); // replayed from the log
    assert.deepEqual((await k.status(id)).annotations, before.annotations);
    assert.equal((await k.status(id)).digest, before.digest);
    await k.store.checkpoint();
    await k.close();
    k = await Kernel.open(home); // from the checkpoint's SWS table
    assert.deepEqual((await k.status(id)).annotations, before.annotations);
    assert.equal((await k.status(id)).digest, before.digest);
    const r = await k.commit(id, 'human', 'reviewed');
    const snap = k.store.reader.get(r.snapshot).payload as { findings: unknown[] };
    assert.deepEqual(snap.findings, before.annotations);
    assert.equal((await k.fsck()).ok, true);
    await k.close();
  });

  it('refuse bad findings without changing anything', async () => {
    const k = await Kernel.open(await tmp());
    const { id } = await k.create({ ref: 'main', owner: 'human' });
    const good = { author: 'a', path: 'f', range: null, severity: 'info', message: 'm' } as const;
    const digest = (await k.status(id)).digest;
    for (const bad of [
      { ...good, severity: 'fatal' },
      { ...good, path: '../etc' },
      { ...good, message: '' },
      { ...good, range: [3, 1] },
      { ...good, range: [0, 1] },
      { ...good, author: '' },
    ])
      await assert.rejects(k.annotate(id, bad as never), PatchInputError, JSON.stringify(bad));
    assert.equal((await k.status(id)).digest, digest);
    await k.close();
  });
});
