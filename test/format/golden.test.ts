/**
 * Golden fixtures (habit 6): the committed bytes of every on-disk and hashed format. If a change
 * alters any of them, these tests fail: a format change must be deliberate, versioned and noted
 * in docs/INTERNALS.md. JIT_WRITE_FIXTURES=1 rewrites the fixtures (then review the diff).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { blake3Hex, toHex } from '../../src/codec/index.js';
import { decodeNode, encodeNode, MemoryDag, nodeId } from '../../src/dag/index.js';
import {
  encodeSwsAnnotate,
  encodeSwsCreate,
  encodeSwsDestroy,
  encodeSwsPatch,
  encodeSwsTable,
  type OverlayEntry,
  Sws,
} from '../../src/kernel/index.js';
import { Store, storePaths } from '../../src/store/index.js';
import { goldenNodes, writeGoldenStore } from '../helpers/golden.js';
import { fromHexLoose } from '../helpers/hex.js';
import { tmpDirs } from '../helpers/tmp.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
const write = process.env.JIT_WRITE_FIXTURES === '1';
const tmp = tmpDirs('jit-test-');

interface NodeFixture {
  readonly name: string;
  readonly id: string;
  readonly hex: string;
}

describe('format - golden fixtures', () => {
  it('nodes: every type encodes to the committed bytes and id, and decodes back', async () => {
    const made: NodeFixture[] = goldenNodes().map(({ name, node }) => ({
      name,
      id: nodeId(node),
      hex: toHex(encodeNode(node)),
    }));
    const file = join(fixtures, 'nodes-v1.json');
    if (write) await writeFile(file, `${JSON.stringify(made, null, 2)}\n`);
    const golden = JSON.parse(await readFile(file, 'utf8')) as NodeFixture[];
    assert.deepEqual(made, golden);
    const dag = new MemoryDag();
    for (const f of golden) {
      const bytes = fromHexLoose(f.hex);
      assert.equal(blake3Hex(bytes), f.id, f.name);
      assert.deepEqual(encodeNode(decodeNode(bytes)), bytes, f.name);
      dag.putBytes([bytes]);
    }
    assert.equal(dag.size, golden.length);
  });

  it('WAL segment and checkpoint: the same writes give the committed bytes; the committed files boot', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    await writeGoldenStore(s);
    const digest = s.digest();
    const refs = s.refs();
    await s.close();
    const wal = await readFile(storePaths(dir).wal);
    const cp = await readFile(storePaths(dir).checkpoint);
    const walFile = join(fixtures, 'wal', 'log-v1.wal');
    const cpFile = join(fixtures, 'wal', 'checkpoint-v3.cbor');
    const digestFile = join(fixtures, 'wal', 'digest-v1.txt');
    if (write) {
      await mkdir(join(fixtures, 'wal'), { recursive: true });
      await writeFile(walFile, wal);
      await writeFile(cpFile, cp);
      await writeFile(digestFile, `${digest}\n`);
    }
    assert.deepEqual(wal, await readFile(walFile), 'WAL bytes changed');
    assert.deepEqual(cp, await readFile(cpFile), 'checkpoint bytes changed');
    assert.equal(digest, (await readFile(digestFile, 'utf8')).trim());

    // the committed files themselves boot, with and without the checkpoint, to the committed digest
    for (const withCheckpoint of [true, false]) {
      const d = await tmp();
      await mkdir(join(d, 'wal'));
      await copyFile(walFile, storePaths(d).wal);
      if (withCheckpoint) await copyFile(cpFile, storePaths(d).checkpoint);
      const booted = await Store.open(d);
      assert.equal(booted.boot.checkpoint, withCheckpoint ? 'used' : 'none');
      assert.equal(booted.digest(), digest);
      assert.deepEqual(booted.refs(), refs);
      await booted.close();
    }
  });

  it('SWS records and the SWS table: fixed inputs give the committed bytes', async () => {
    const id = '00112233445566778899aabbccddeeff';
    const node = (n: number): string => n.toString(16).padStart(2, '0').repeat(32);
    const header = {
      id,
      owner: 'alice',
      delegates: ['bob'],
      baseRef: 'main',
      baseNode: node(1),
      baseTree: node(2),
      meta: { task: 't1' },
    };
    const annotation = {
      author: 'lint',
      path: 'src/a.ts',
      range: [3, 5] as const,
      severity: 'warning' as const,
      message: 'unused',
    };
    const effects: [string, OverlayEntry][] = [
      ['a.txt', { kind: 'blob', id: node(3) }],
      ['b.txt', { kind: 'deleted' }],
      ['c.txt', { kind: 'conflict', base: null, candidates: [node(4), node(5)] }],
    ];
    const sws = new Sws(header);
    sws.apply(node(6), effects);
    sws.annotations.push(annotation);
    const made = {
      SWS_CREATE: toHex(encodeSwsCreate(header)),
      SWS_PATCH: toHex(encodeSwsPatch(id, node(6), effects)),
      SWS_DESTROY: toHex(encodeSwsDestroy(id, 'discarded')),
      SWS_ANNOTATE: toHex(encodeSwsAnnotate(id, annotation)),
      table: toHex(encodeSwsTable(new Map([[id, sws]]))),
      digest: sws.digest(),
    };
    const file = join(fixtures, 'wal', 'sws-records-v1.json');
    if (write) await writeFile(file, `${JSON.stringify(made, null, 2)}\n`);
    assert.deepEqual(made, JSON.parse(await readFile(file, 'utf8')));
  });

  // older checkpoints, each with the log written beside it: the log boots, the checkpoint is
  // ignored (a full replay), never misread
  const olderCheckpoints = [
    { v: 1, what: 'no ext', digest: join('compat', 'digest.txt') },
    { v: 2, what: 'index and ext inside the CBOR item', digest: join('wal', 'digest-v1.txt') },
  ];
  for (const { v, what, digest } of olderCheckpoints)
    it(`compatibility: a log written with checkpoint v${v} (${what}) still boots; the checkpoint is ignored, never misread`, async () => {
      const d = await tmp();
      await mkdir(join(d, 'wal'));
      await copyFile(join(fixtures, 'compat', `log-with-checkpoint-v${v}.wal`), storePaths(d).wal);
      await copyFile(join(fixtures, 'compat', `checkpoint-v${v}.cbor`), storePaths(d).checkpoint);
      const s = await Store.open(d);
      assert.equal(s.boot.checkpoint, `ignored: checkpoint version ${v} is not 3`);
      assert.equal(s.digest(), (await readFile(join(fixtures, digest), 'utf8')).trim());
      await s.close();
    });
});
