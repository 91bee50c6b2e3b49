import { fromHex } from '../../src/codec/index.js';
import {
  blobNode,
  type JitNode,
  makeNode,
  nodeId,
  ROOT_NODE,
  treeNode,
} from '../../src/dag/index.js';
import type { Store } from '../../src/store/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One node of every type, built the same way every time: the golden node fixture. */
export function goldenNodes(): { name: string; node: JitNode }[] {
  const lamports = new Map<string, number>([[nodeId(ROOT_NODE), 0]]);
  const add = (name: string, node: JitNode, out: { name: string; node: JitNode }[]): string => {
    const id = nodeId(node);
    lamports.set(id, node.meta.lamport);
    out.push({ name, node });
    return id;
  };
  const lam = (id: string): number => lamports.get(id)!;
  const out: { name: string; node: JitNode }[] = [];
  const root = add('root', ROOT_NODE, out);
  const blob = add('blob', blobNode(text('hello, jit\n')), out);
  const sub = add('tree-sub', treeNode({ 'b.txt': { kind: 'blob', id: blob } }), out);
  const tree = add(
    'tree',
    treeNode({ 'a.txt': { kind: 'blob', id: blob }, dir: { kind: 'tree', id: sub } }),
    out,
  );
  const patch = fromHex('aa'.repeat(32))!;
  const s1 = add(
    'snapshot',
    makeNode(
      'snapshot',
      [root],
      { tree: fromHex(tree)!, message: 'first', author: 'alice', sws: null, patches: [] },
      lam,
    ),
    out,
  );
  const s2 = add(
    'snapshot-child',
    makeNode(
      'snapshot',
      [s1],
      {
        tree: fromHex(sub)!,
        message: 'second',
        author: 'bob',
        sws: new Uint8Array(16).fill(1),
        patches: [patch],
      },
      lam,
    ),
    out,
  );
  add(
    'rewrite',
    makeNode(
      'rewrite',
      [s1, s2],
      { kind: 'merge', mapping: [[fromHex(s1)!, fromHex(s2)!]], conflicts: [] },
      lam,
    ),
    out,
  );
  add('provenance', makeNode('provenance', [root], { event: 'test', n: 1 }, lam), out);
  return out;
}

/** Writes the golden WAL: every golden node, a branch, a tag, a branch move, a checkpoint. */
export async function writeGoldenStore(store: Store): Promise<void> {
  const nodes = goldenNodes();
  await store.put(nodes.map((n) => n.node));
  const id = (name: string): string => nodeId(nodes.find((n) => n.name === name)!.node);
  await store.setRef({ name: 'main', kind: 'branch', target: id('snapshot') });
  await store.setRef({ name: 'v1', kind: 'tag', target: id('snapshot') });
  await store.setRef({
    name: 'main',
    kind: 'branch',
    target: id('snapshot-child'),
    expect: id('snapshot'),
  });
  await store.checkpoint();
  await store.setRef({ name: 'feature/x', kind: 'branch', target: id('snapshot') });
}
