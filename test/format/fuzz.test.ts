/**
 * Bad input at every decoder entry point (issue 2, "Bad input"): random and mutated WAL records,
 * whole logs and nodes yield values or our own typed errors, never anything else, and a refused
 * input changes no state.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryDag } from '../../src/dag/index.js';
import { JitError } from '../../src/errors/index.js';
import { Store, storePaths } from '../../src/store/index.js';
import { parseRecord, RECORD_HEADER_BYTES } from '../../src/wal/index.js';
import { fromHexLoose } from '../helpers/hex.js';
import { iterations, type Rng, replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
const tmp = tmpDirs('jit-test-');

function mutate(r: Rng, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const k = r.int(4);
    if (k === 0 && out.length > 0) out[r.int(out.length)]! ^= 1 << r.int(8);
    else if (k === 1 && out.length > 0) out[r.int(out.length)] = r.int(256);
    else if (k === 2) return out.subarray(0, r.int(out.length + 1));
    else if (out.length > 0) out.copyWithin(r.int(out.length), r.int(out.length));
  }
  return out;
}

describe('format - fuzz of decoder entry points', () => {
  it('WAL records: parseRecord classifies any bytes without throwing', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const wal = await readFile(join(fixtures, 'wal', 'log-v1.wal'));
    for (let i = 0; i < iterations(10_000, 1_000_000); i++) {
      const input =
        i % 4 === 0
          ? r.bytes(r.int(200))
          : mutate(r, wal.subarray(r.int(wal.length - RECORD_HEADER_BYTES)));
      try {
        const res = parseRecord(input, 0, 0);
        assert.ok(['record', 'incomplete', 'bad'].includes(res.kind));
      } catch (e) {
        throw new Error(`parseRecord threw ${String(e)}; ${replayHint(seed, 'fuzz')}`, {
          cause: e,
        });
      }
    }
  });

  it('nodes: mutated node bytes are refused with typed errors and leave the DAG unchanged', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const golden = (
      JSON.parse(await readFile(join(fixtures, 'nodes-v1.json'), 'utf8')) as { hex: string }[]
    ).map((f) => fromHexLoose(f.hex));
    const dag = new MemoryDag();
    dag.putBytes(golden);
    const accepted: Uint8Array[] = [];
    const n = iterations(10_000, 1_000_000);
    for (let i = 0; i < n; i++) {
      const input = mutate(r, r.pick(golden));
      const size = dag.size;
      try {
        dag.putBytes([input]);
        accepted.push(input);
      } catch (e) {
        if (!(e instanceof JitError))
          throw new Error(`untyped ${String(e)}; ${replayHint(seed, 'fuzz')}`, { cause: e });
        assert.equal(dag.size, size, `a refused node changed the DAG; ${replayHint(seed, 'fuzz')}`);
      }
    }
    // a mutation may still be a valid node (another blob byte, say); the DAG holds exactly those
    assert.ok(accepted.length < n / 2, replayHint(seed, 'fuzz'));
    const expected = new MemoryDag();
    expected.putBytes([...golden, ...accepted]);
    assert.equal(dag.digest(), expected.digest(), replayHint(seed, 'fuzz'));
  });

  it('whole logs: a mutated golden log either boots or is refused with a typed error', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const wal = await readFile(join(fixtures, 'wal', 'log-v1.wal'));
    const base = await tmp();
    const outcomes = new Map<string, number>();
    for (let i = 0; i < iterations(60, 5_000); i++) {
      const dir = join(base, String(i));
      await mkdir(join(dir, 'wal'), { recursive: true });
      await writeFile(storePaths(dir).wal, mutate(r, wal));
      if (r.next() < 0.3)
        await copyFile(join(fixtures, 'wal', 'checkpoint-v3.cbor'), storePaths(dir).checkpoint);
      try {
        const s = await Store.open(dir);
        await s.close();
        outcomes.set('booted', (outcomes.get('booted') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof JitError))
          throw new Error(`Store.open threw untyped ${String(e)}; ${replayHint(seed, 'fuzz')}`, {
            cause: e,
          });
        outcomes.set(e.name, (outcomes.get(e.name) ?? 0) + 1);
      }
      await rm(dir, { recursive: true, force: true });
    }
    assert.ok(
      outcomes.size >= 2,
      `expected both boots and refusals, got ${[...outcomes].join(' ')}; ${replayHint(seed, 'fuzz')}`,
    );
  });
});
