/**
 * Child process for the crash tests: opens the store at argv[2] and writes under load until
 * killed. It prints `ACK <node id>` for each node and `REF <target>` for each move of branch
 * `main`, only after the write was acknowledged (durable). Writes to a pipe are synchronous on
 * Linux, so a printed line means the parent will see it even if SIGKILL follows at once.
 */
import { fromHex } from '../../src/codec/index.js';
import { blobNode, makeNode, nodeId, ROOT_ID, treeNode } from '../../src/dag/index.js';
import { Store } from '../../src/store/index.js';
import { rng } from './seed.js';

const dir = process.argv[2]!;
const seed = Number(process.argv[3] ?? 1);
const r = rng(seed);
const store = await Store.open(dir);
process.stdout.write(`READY ${store.boot.replayed}\n`);
let head = store.getRef('main')?.target ?? ROOT_ID;
let n = 0;

async function worker(w: number): Promise<void> {
  for (;;) {
    const i = n++;
    const blob = blobNode(r.bytes(64 + r.int(2048)));
    const [id] = await store.put([blob]);
    process.stdout.write(`ACK ${id}\n`);
    if (w === 0 && i % 10 === 0) {
      const tree = treeNode({ [`f${i}`]: { kind: 'blob', id: nodeId(blob) } });
      await store.put([tree]);
      const snap = makeNode(
        'snapshot',
        [head],
        { tree: fromHex(nodeId(tree))!, message: `s${i}`, author: 'crash', sws: null, patches: [] },
        (x) => store.reader.info(x).lamport,
      );
      const [s] = await store.put([snap]);
      await store.setRef({ name: 'main', kind: 'branch', target: s! });
      head = s!;
      process.stdout.write(`ACK ${s}\nREF ${s}\n`);
    }
    if (w === 1 && i % 500 === 0) await store.checkpoint();
  }
}

await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
