import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blake3Hex, fromHex } from '../../src/codec/index.js';
import {
  blobNode,
  encodeNode,
  IndexSnapshotOpenError,
  type JitNode,
  MemoryDag,
  makeNode,
  NodeIndex,
  NodeNotFoundError,
  nodeId,
  ROOT_ID,
  TYPE_RULES,
  treeNode,
} from '../../src/dag/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

const ROOT_GOLDEN = '17a365ae26b97f8c1048a83700e1dd0840b9d8125b250c16c336ac3643d5169f';

function chain(dag: MemoryDag, n: number): string[] {
  const [b] = dag.put(blobNode(new Uint8Array([1])));
  const [t] = dag.put(treeNode({ f: { kind: 'blob', id: b! } }));
  const ids: string[] = [];
  let parent = ROOT_ID;
  for (let i = 0; i < n; i++) {
    const s = makeNode(
      'snapshot',
      [parent],
      { tree: fromHex(t!)!, message: `s${i}`, author: 'a', sws: null, patches: [] },
      (id) => dag.info(id).lamport,
    );
    dag.put(s);
    parent = nodeId(s);
    ids.push(parent);
  }
  return ids;
}

describe('dag - node ids', () => {
  it('the streamed NodeID equals BLAKE3 of the encoded bytes, for small and large content', () => {
    for (const size of [0, 10, 511, 512, 4096, 100_000]) {
      const node = blobNode(new Uint8Array(size).map((_, i) => i * 7));
      assert.equal(nodeId(node), blake3Hex(encodeNode(node)), `size ${size}`);
      const t = treeNode({ a: { kind: 'blob', id: nodeId(node) } });
      assert.equal(nodeId(t), blake3Hex(encodeNode(t)));
    }
  });
});

describe('dag - queries', () => {
  it('the root id is fixed and known', () => {
    const dag = new MemoryDag();
    assert.equal(dag.size, 1);
    assert.ok(dag.has(ROOT_ID));
    assert.equal(dag.info(ROOT_ID).lamport, 0);
    // golden: the root is {type:"root", parents:[], payload:h'', meta:{lamport:0}}
    assert.equal(ROOT_ID, ROOT_GOLDEN);
  });
  it('get, parents, info and lineage follow the chain', () => {
    const dag = new MemoryDag();
    const ids = chain(dag, 5);
    assert.deepEqual(dag.parents(ids[4]!), [ids[3]]);
    assert.equal(dag.info(ids[4]!).lamport, 5);
    assert.equal(dag.info(ids[4]!).type, 'snapshot');
    assert.deepEqual(dag.lineage(ids[4]!), [ids[3], ids[2], ids[1], ids[0], ROOT_ID]);
    assert.deepEqual(dag.lineage(ids[4]!, 2), [ids[3], ids[2]]);
  });
  it('frontier is the set of nodes without children, sorted', () => {
    const dag = new MemoryDag();
    const ids = chain(dag, 3);
    const f = dag.frontier();
    assert.ok(f.includes(ids[2]!));
    assert.ok(!f.includes(ids[1]!));
    assert.ok(!f.includes(ROOT_ID));
    assert.deepEqual(f, [...f].sort());
  });
  it('subgraph is the closure over parents and references, parents first', () => {
    const dag = new MemoryDag();
    const ids = chain(dag, 2);
    const { nodes, edges } = dag.subgraph(ids[1]!);
    assert.equal(nodes[0], ROOT_ID);
    assert.equal(nodes.at(-1), ids[1]);
    assert.equal(nodes.length, 5); // root, blob, tree, s0, s1
    assert.ok(edges.some((e) => e.from === ids[1] && e.to === ids[0] && e.kind === 'parent'));
    assert.ok(edges.some((e) => e.kind === 'ref'));
    const pos = new Map(nodes.map((n, i) => [n, i]));
    for (const e of edges) assert.ok(pos.get(e.to)! < pos.get(e.from)!, 'parents come first');
  });
  it('unknown or malformed ids are NodeNotFoundError', () => {
    const dag = new MemoryDag();
    assert.throws(() => dag.get('ab'.repeat(32)), NodeNotFoundError);
    assert.throws(() => dag.get('not-an-id'), NodeNotFoundError);
    assert.throws(() => dag.info('AB'.repeat(32)), NodeNotFoundError);
    assert.equal(dag.has('xyz'), false);
  });
});

describe('dag - order independence (antichain swap)', () => {
  it('any topological insertion order of the same nodes gives one digest and frontier', () => {
    const seed = testSeed();
    const r = rng(seed);
    // a random DAG of snapshots over a few trees
    const base = new MemoryDag();
    const blobs = Array.from({ length: 20 }, (_, i) => blobNode(new Uint8Array([i, r.int(256)])));
    base.put(...blobs);
    const trees = blobs
      .slice(0, 5)
      .map((b, i) => treeNode({ [`f${i}`]: { kind: 'blob', id: nodeId(b) } }));
    base.put(...trees);
    const snaps: JitNode[] = [];
    for (let i = 0; i < 30; i++) {
      const pool = [ROOT_ID, ...snaps.map(nodeId)];
      const parents = [r.pick(pool), r.pick(pool)];
      const s = makeNode(
        'snapshot',
        parents,
        {
          tree: fromHex(nodeId(r.pick(trees)))!,
          message: `m${i}`,
          author: 'a',
          sws: null,
          patches: [],
        },
        (id) => base.info(id).lamport,
      );
      base.put(s);
      snaps.push(s);
    }
    const all = [...blobs, ...trees, ...snaps];
    for (let k = 0; k < 20; k++) {
      // random topological order: repeatedly pick any node whose parents are in
      const copy = new MemoryDag();
      const left = [...all];
      while (left.length > 0) {
        const ready = left.filter(
          (n) =>
            n.parents.every((p) => copy.has(p)) &&
            TYPE_RULES[n.type].refs(n.payload).every((x) => copy.has(x.id)),
        );
        const pick = r.pick(ready);
        copy.put(pick);
        left.splice(left.indexOf(pick), 1);
      }
      assert.equal(copy.digest(), base.digest(), replayHint(seed, 'dag.test'));
      assert.deepEqual(copy.frontier(), base.frontier(), replayHint(seed, 'dag.test'));
    }
  });
});

describe('dag - node index', () => {
  it('grows, finds every id, and survives a dump/load round trip', () => {
    const seed = testSeed();
    const r = rng(seed);
    const idx = new NodeIndex(16);
    const keys: Uint8Array[] = [];
    for (let i = 0; i < 50_000; i++) {
      const k = r.bytes(32);
      keys.push(k);
      idx.insert(k, 1 + (i % 6), i, i * 100, i % 1000, i % 3 === 0);
    }
    assert.equal(idx.size, 50_000);
    const loaded = NodeIndex.load(idx.dump());
    for (let i = 0; i < keys.length; i += 97) {
      const e = loaded.get(keys[i]!);
      assert.deepEqual(
        e,
        {
          typeCode: 1 + (i % 6),
          lamport: i,
          hasChildren: i % 3 === 0,
          loc: i * 100,
          len: i % 1000,
        },
        replayHint(seed, 'dag.test'),
      );
    }
    assert.equal(loaded.get(r.bytes(32)), undefined);
    assert.deepEqual(loaded.dump(), idx.dump(), 'dump order is insertion order, not table layout');
    assert.ok(
      idx.memoryBytes / idx.size < 200,
      `index costs ${idx.memoryBytes / idx.size} bytes per node`,
    );
  });

  it('a snapshot dumped in steps while inserts and has-children flags go on gives the dump of its moment', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const idx = new NodeIndex(16);
    const keys: Uint8Array[] = [];
    const add = (): void => {
      const k = r.bytes(32);
      keys.push(k);
      idx.insert(k, 1 + r.int(6), keys.length, keys.length * 10, r.int(1000));
    };
    for (let i = 0; i < 20_000; i++) add();
    for (let i = 0; i < 200; i++) idx.markHasChildren(r.pick(keys));
    const expected = idx.dump();
    const snap = idx.snapshot();
    assert.equal(snap.count, 20_000);
    assert.throws(() => idx.snapshot(), IndexSnapshotOpenError);
    // between steps: new nodes (shards grow), and flags set on old and new nodes alike
    const got = await snap.dump(async () => {
      for (let i = 0; i < 500; i++) add();
      for (let i = 0; i < 50; i++) idx.markHasChildren(r.pick(keys));
    });
    assert.ok(keys.length > 20_000, 'inserts happened during the dump');
    assert.deepEqual(got, expected, replayHint(seed, 'dag.test'));
    // the snapshot ended with its dump: the next one sees everything
    const next = idx.snapshot();
    assert.deepEqual(await next.dump(async () => undefined), idx.dump());
    idx.snapshot().close();
    idx.snapshot().close();
  });
});
