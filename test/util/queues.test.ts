import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Numbered } from '../../src/util/numbered.js';
import { Ring } from '../../src/util/ring.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Whether the object made by `make` is collected once the caller drops it (after `drop`). */
async function collectedAfter(make: () => object, drop: (o: object) => void): Promise<boolean> {
  let ref: WeakRef<object> | undefined;
  (() => {
    const o = make();
    ref = new WeakRef(o);
    drop(o);
  })();
  await new Promise((r) => setImmediate(r));
  gc();
  return ref!.deref() === undefined;
}

describe('Ring (a FIFO on a circular array)', () => {
  it('behaves as an array used as a queue (seeded random operations)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'queues');
    for (let run = 0; run < iterations(50, 500); run++) {
      const ring = new Ring<number>(r.int(40));
      const model: number[] = [];
      let next = 0;
      for (let op = 0; op < 2000; op++) {
        const k = r.int(10);
        // pushes slightly outnumber shifts, so the ring grows through several sizes
        if (k < 5) {
          ring.push(next);
          model.push(next++);
        } else if (k < 9) assert.equal(ring.shift(), model.shift(), hint);
        else if (r.int(50) === 0) {
          ring.clear();
          model.length = 0;
        } else assert.equal(ring.peek(), model[0], hint);
        assert.equal(ring.length, model.length, hint);
      }
    }
  });

  it('keeps no reference to what was taken out, through growth too', async () => {
    const ring = new Ring<object>(8);
    for (let i = 0; i < 5; i++) ring.push({ i });
    assert.ok(
      await collectedAfter(
        () => ({ taken: true }),
        (o) => {
          ring.push(o);
          for (let i = 0; i < 20; i++) ring.push({ i }); // grows 8 -> 16 -> 32 with o inside
          while (ring.shift() !== o);
        },
      ),
      'an item taken out of the ring is still referenced by it',
    );
    assert.equal(ring.length, 20);
  });
});

describe('Numbered (values under the numbers it hands out)', () => {
  it('behaves as a Map keyed by a counter, late takes and growth included (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'queues');
    for (let run = 0; run < iterations(50, 500); run++) {
      const numbered = new Numbered<string>(r.int(20));
      const model = new Map<number, string>();
      let made = 0;
      for (let op = 0; op < 1500; op++) {
        const k = r.int(10);
        if (k < 5) {
          const v = `v${made++}`;
          const n = numbered.add(v);
          assert.ok(!model.has(n), `number ${n} handed out twice; ${hint}`);
          model.set(n, v);
        } else if (k < 9 && model.size > 0) {
          // mostly the oldest (acknowledged in order), sometimes any, sometimes one never given
          const held = [...model.keys()];
          const n = r.int(4) === 0 ? held[r.int(held.length)]! : held[0]!;
          const take = r.int(20) === 0 ? n + 100_000 : n;
          assert.equal(numbered.take(take), model.get(take), hint);
          model.delete(take);
        } else if (r.int(100) === 0) {
          assert.deepEqual(numbered.takeAll(), [...model.values()], hint);
          model.clear();
        }
        assert.equal(numbered.size, model.size, hint);
      }
      assert.deepEqual(numbered.takeAll(), [...model.values()], hint);
      assert.equal(numbered.size, 0, hint);
    }
  });

  it('keeps a value held for a long time, and takes it back', () => {
    const numbered = new Numbered<string>(8);
    const first = numbered.add('first');
    for (let i = 0; i < 10_000; i++) numbered.take(numbered.add(`v${i}`));
    assert.equal(numbered.size, 1);
    assert.equal(numbered.take(first), 'first');
    assert.equal(numbered.take(first), undefined);
    assert.equal(numbered.size, 0);
  });

  it('keeps no reference to what was taken out, through growth too', async () => {
    const numbered = new Numbered<object>(8);
    assert.ok(
      await collectedAfter(
        () => ({ taken: true }),
        (o) => {
          const n = numbered.add(o);
          for (let i = 0; i < 40; i++) numbered.add({ i }); // grows with o inside
          assert.equal(numbered.take(n), o);
        },
      ),
      'a value taken out is still referenced',
    );
    assert.equal(numbered.size, 40);
  });
});
