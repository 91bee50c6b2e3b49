import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blake3Hex, encode, fromHex } from '../../src/codec/index.js';
import {
  blobNode,
  encodeNode,
  Invariant,
  type InvariantNumber,
  InvariantViolationError,
  type JitNode,
  MemoryDag,
  makeNode,
  NodeFormatError,
  nodeId,
  ROOT_ID,
  treeNode,
} from '../../src/dag/index.js';

function refusedWith(fn: () => unknown, invariant: InvariantNumber): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      e instanceof InvariantViolationError,
      `expected InvariantViolationError, got ${String(e)}`,
    );
    assert.equal(e.invariant, invariant, e.message);
    assert.equal(e.code, 4);
    return true;
  });
}

/** A DAG with a blob, a tree holding it, and one snapshot. */
function seeded(): { dag: MemoryDag; blob: string; tree: string; snap: string } {
  const dag = new MemoryDag();
  const [blob] = dag.put(blobNode(new TextEncoder().encode('hello\n')));
  const [tree] = dag.put(treeNode({ 'a.txt': { kind: 'blob', id: blob! } }));
  const snap = makeNode(
    'snapshot',
    [ROOT_ID],
    { tree: fromHex(tree!)!, message: 'first', author: 'alice', sws: null, patches: [] },
    (id) => dag.info(id).lamport,
  );
  dag.put(snap);
  return { dag, blob: blob!, tree: tree!, snap: nodeId(snap) };
}

/** Asserts `fn` throws and leaves the DAG exactly as it was (size, digest, frontier). */
function unchanged(dag: MemoryDag, fn: () => void): void {
  const before = { size: dag.size, digest: dag.digest(), frontier: dag.frontier() };
  fn();
  assert.deepEqual({ size: dag.size, digest: dag.digest(), frontier: dag.frontier() }, before);
}

function snapshotOn(dag: MemoryDag, parents: string[], tree: string, message: string): JitNode {
  return makeNode(
    'snapshot',
    parents,
    { tree: fromHex(tree)!, message, author: 'bob', sws: null, patches: [] },
    (id) => dag.info(id).lamport,
  );
}

describe('dag - the twelve RFC-0002 invariants are enforced at put', () => {
  it('1 acyclicity: a parent that comes after its child, or a node naming itself, is refused', () => {
    const { dag, tree, snap } = seeded();
    const a = snapshotOn(dag, [snap], tree, 'a');
    const b: JitNode = {
      ...snapshotOn(dag, [snap], tree, 'b'),
      parents: [nodeId(a)].sort(),
      meta: { lamport: a.meta.lamport + 1 },
    };
    unchanged(dag, () => refusedWith(() => dag.put(b, a), Invariant.ACYCLICITY));
    const bytes = encodeNode(a);
    const self = blake3Hex(bytes);
    const selfish = encodeNode({ ...a, parents: [self] });
    unchanged(dag, () => refusedWith(() => dag.putBytes([selfish], [self]), Invariant.ACYCLICITY));
  });

  it('2 append-only: re-putting a node is a no-op; there is no way to remove one', () => {
    const { dag, snap } = seeded();
    unchanged(dag, () => {
      assert.deepEqual(dag.putBytes([dag.getBytes(snap)]), [snap]);
    });
    for (const name of ['delete', 'remove', 'clear', 'set']) {
      assert.equal(
        (dag as unknown as Record<string, unknown>)[name],
        undefined,
        `dag.${name} exists`,
      );
    }
  });

  it('3 immutability: content that does not match its claimed id is refused; reads are copies', () => {
    const { dag, blob, snap } = seeded();
    const other = encodeNode(blobNode(new Uint8Array([1, 2, 3])));
    unchanged(dag, () => refusedWith(() => dag.putBytes([other], [blob]), Invariant.IMMUTABILITY));
    const n = dag.get(snap) as { payload: Record<string, unknown> };
    n.payload.message = 'rewritten';
    assert.equal((dag.get(snap).payload as Record<string, unknown>).message, 'first');
    const bytes = dag.getBytes(blob);
    bytes[0] = 0;
    assert.equal(blake3Hex(dag.getBytes(blob)), blob);
  });

  it('4 causal completeness: a missing parent or a missing referenced node is refused', () => {
    const { dag, tree } = seeded();
    const ghost = '11'.repeat(32);
    const orphan: JitNode = {
      type: 'snapshot',
      parents: [ghost],
      payload: { tree: fromHex(tree)!, message: 'x', author: 'a', sws: null, patches: [] },
      meta: { lamport: 1 },
    };
    unchanged(dag, () => refusedWith(() => dag.put(orphan), Invariant.CAUSAL_COMPLETENESS));
    unchanged(dag, () =>
      refusedWith(
        () => dag.put(treeNode({ f: { kind: 'blob', id: ghost } })),
        Invariant.CAUSAL_COMPLETENESS,
      ),
    );
  });

  it('5 monotonic growth: a batch with one bad node adds nothing; a good one only adds', () => {
    const { dag } = seeded();
    const good = blobNode(new Uint8Array([9]));
    const bad = treeNode({ f: { kind: 'blob', id: '22'.repeat(32) } });
    unchanged(dag, () => assert.throws(() => dag.put(good, bad)));
    assert.equal(dag.has(nodeId(good)), false);
    const before = new Set(dag.frontier());
    const size = dag.size;
    dag.put(good);
    assert.equal(dag.size, size + 1);
    for (const id of before) assert.ok(dag.has(id));
  });

  it('6 parent canonicalization: unsorted or duplicate parents are refused', () => {
    const { dag, tree, snap } = seeded();
    const s2 = snapshotOn(dag, [snap], tree, 's2');
    dag.put(s2);
    const [lo, hi] = [snap, nodeId(s2)].sort();
    const merge = snapshotOn(dag, [snap, nodeId(s2)], tree, 'merge');
    unchanged(dag, () =>
      refusedWith(
        () => dag.put({ ...merge, parents: [hi!, lo!] }),
        Invariant.PARENT_CANONICALIZATION,
      ),
    );
    unchanged(dag, () =>
      refusedWith(
        () => dag.put({ ...merge, parents: [lo!, lo!] }),
        Invariant.PARENT_CANONICALIZATION,
      ),
    );
  });

  it('7 single universe: a second genesis (a non-root without parents, or another root) is refused', () => {
    const { dag } = seeded();
    unchanged(dag, () =>
      refusedWith(
        () =>
          dag.put({ type: 'blob', parents: [], payload: new Uint8Array(1), meta: { lamport: 0 } }),
        Invariant.SINGLE_UNIVERSE,
      ),
    );
    unchanged(dag, () =>
      assert.throws(
        () =>
          dag.put({
            type: 'root',
            parents: [],
            payload: new Uint8Array([1]),
            meta: { lamport: 0 },
          }),
        NodeFormatError,
      ),
    );
  });

  it('8 shadows cannot mutate the universe: the reader view has no write method', () => {
    const { dag } = seeded();
    const reader = dag.reader() as unknown as Record<string, unknown>;
    for (const name of ['put', 'putBytes', 'prepare', 'apply', 'index'])
      assert.equal(reader[name], undefined, name);
    assert.ok(Object.isFrozen(reader));
    assert.equal(reader.size as number, dag.size);
  });

  it('9 determinism: a node id depends only on content, never on when or where it was made', () => {
    const a = new MemoryDag();
    const b = new MemoryDag();
    const blobs = ['x', 'y', 'z'].map((s) => blobNode(new TextEncoder().encode(s)));
    a.put(...blobs);
    b.put(...[...blobs].reverse());
    assert.equal(a.digest(), b.digest());
    assert.deepEqual(a.frontier(), b.frontier());
  });

  it('10 rewrites create, never mutate: a rewrite mapping to a missing node is refused', () => {
    const { dag, snap } = seeded();
    const rw = makeNode(
      'rewrite',
      [snap],
      { kind: 'merge', mapping: [[fromHex(snap)!, fromHex('33'.repeat(32))!]] },
      (id) => dag.info(id).lamport,
    );
    unchanged(dag, () => refusedWith(() => dag.put(rw), Invariant.REWRITES_CREATE));
    const ok = makeNode(
      'rewrite',
      [snap],
      { kind: 'merge', mapping: [[fromHex(snap)!, fromHex(snap)!]] },
      (id) => dag.info(id).lamport,
    );
    dag.put(ok);
    assert.equal(dag.info(nodeId(ok)).type, 'rewrite');
  });

  it('11 Lamport ordering: a lamport other than 1 + max(parents) is refused', () => {
    const { dag, tree, snap } = seeded();
    const s = snapshotOn(dag, [snap], tree, 'l');
    unchanged(dag, () =>
      refusedWith(
        () => dag.put({ ...s, meta: { lamport: s.meta.lamport + 5 } }),
        Invariant.LAMPORT_ORDERING,
      ),
    );
    unchanged(dag, () =>
      refusedWith(() => dag.put({ ...s, meta: { lamport: 1 } }), Invariant.LAMPORT_ORDERING),
    );
  });

  it('12 deterministic reconstruction: rebuilding from the nodes gives the same digest and frontier', () => {
    const { dag, snap } = seeded();
    const copy = new MemoryDag();
    const { nodes } = dag.subgraph(snap);
    copy.putBytes(
      nodes.map((id) => dag.getBytes(id)),
      nodes,
    );
    assert.equal(copy.digest(), dag.digest());
    assert.deepEqual(copy.frontier(), dag.frontier());
  });
});

describe('dag - node format', () => {
  it('refuses bytes that are not a canonical node', () => {
    const dag = new MemoryDag();
    const cases: Uint8Array[] = [
      encode([1, 2]),
      encode({ type: 'blob', parents: [], payload: null }),
      encode({ type: 'nope', parents: [], payload: null, meta: { lamport: 0 } }),
      encode({ type: 'blob', parents: ['x'], payload: new Uint8Array(0), meta: { lamport: 1 } }),
      encode({
        type: 'blob',
        parents: [fromHex(ROOT_ID)!],
        payload: new Uint8Array(0),
        meta: { lamport: 1, wall: 5 },
      }),
      encode({ type: 'blob', parents: [fromHex(ROOT_ID)!], payload: 'text', meta: { lamport: 1 } }),
      encode({
        type: 'blob',
        parents: [fromHex(ROOT_ID)!],
        payload: new Uint8Array(0),
        meta: { lamport: -1 },
      }),
      new Uint8Array([0x9f, 0xff]),
    ];
    for (const c of cases)
      unchanged(dag, () => assert.throws(() => dag.putBytes([c]), NodeFormatError));
  });
  it('refuses tree entries that are not single path segments, or of the wrong kind', () => {
    const dag = new MemoryDag();
    const [b] = dag.put(blobNode(new Uint8Array([1])));
    for (const name of ['', '.', '..', 'a/b', 'nul\0']) {
      assert.throws(
        () => dag.put(treeNode({ [name]: { kind: 'blob', id: b! } })),
        NodeFormatError,
        JSON.stringify(name),
      );
    }
    assert.throws(() => dag.put(treeNode({ d: { kind: 'tree', id: b! } })), NodeFormatError);
  });
  it('refuses a blob whose parent is not the root', () => {
    const dag = new MemoryDag();
    const [b] = dag.put(blobNode(new Uint8Array([1])));
    assert.throws(
      () =>
        dag.put({ type: 'blob', parents: [b!], payload: new Uint8Array(2), meta: { lamport: 2 } }),
      NodeFormatError,
    );
  });
});
