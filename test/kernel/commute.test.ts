import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kernel } from '../../src/kernel/index.js';
import { idBytes, patch, put, seedMain } from '../helpers/kernel.js';
import { iterations, type Rng, replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-commute-');

/** Random patches whose footprints are disjoint: each owns its own paths, or its own lines of f. */
function disjointPatches(r: Rng, baseBlob: string, lines: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const n = 3 + r.int(6);
  const lineOwners = Array.from({ length: lines }, () => r.int(n));
  for (let i = 0; i < n; i++) {
    const ops: Record<string, unknown>[] = [];
    const kind = r.int(4);
    if (kind === 0) ops.push(put(`p${i}/new.txt`, `content ${i} ${r.int(1000)}`));
    else if (kind === 1) ops.push({ op: 'delete', path: `own${i}.txt` });
    else if (kind === 2) ops.push({ op: 'move', from: `own${i}.txt`, to: `moved/${i}.txt` });
    // an edit of the lines this patch owns in the shared file f, against its base
    const mine = lineOwners.map((o, l) => (o === i ? l : -1)).filter((l) => l >= 0);
    if (kind === 3 || mine.length > 0) {
      const hunks = mine
        .filter(() => r.next() < 0.7)
        .map((l) => ({ start: l, end: l + 1, lines: [`edited by ${i}`] }));
      if (hunks.length > 0) ops.push({ op: 'edit', path: 'f', base: idBytes(baseBlob), hunks });
    }
    if (ops.length === 0) ops.push(put(`p${i}/fallback.txt`, `${i}`));
    out.push({ ...patch(...ops), nonce: `n${i}` });
  }
  return out;
}

describe('kernel - commutation', () => {
  it('patches with disjoint footprints give one SWS digest in every order', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'commute');
    const k = await Kernel.open(await tmp());
    const lines = 12;
    const files: Record<string, string> = {
      f: `${Array.from({ length: lines }, (_, i) => `line ${i}`).join('\n')}\n`,
    };
    for (let i = 0; i < 10; i++) files[`own${i}.txt`] = `own ${i}`;
    await seedMain(k, files);
    const probe = (await k.create({ ref: 'main', owner: 'probe' })).id;
    const fBlob = (await k.read(probe, 'f')).blob!;
    for (let round = 0; round < iterations(4, 40); round++) {
      const patches = disjointPatches(r, fBlob, lines + 1);
      let expected: string | undefined;
      let expectedText: string | null = null;
      for (let order = 0; order < iterations(6, 30); order++) {
        const shuffled = [...patches].sort(() => r.next() - 0.5);
        const { id } = await k.create({ ref: 'main', owner: 'agent' });
        for (const p of shuffled) await k.applyPatch(id, p as never);
        const st = await k.status(id);
        const f = new TextDecoder().decode((await k.read(id, 'f')).content!);
        const content = st.content_digest as string;
        if (expected === undefined) {
          expected = content;
          expectedText = f;
        } else {
          assert.equal(content, expected, `order ${order} of round ${round} differs; ${hint}`);
          assert.equal(f, expectedText, hint);
        }
        assert.deepEqual(st.conflicts, [], hint);
        await k.discard(id, 'agent');
      }
    }
    await k.close();
  });
});
