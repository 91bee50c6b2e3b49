import assert from 'node:assert/strict';
import { appendFile, copyFile, unlink, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/codec/index.js';
import {
  blobNode,
  encodeNode,
  type JitNode,
  makeNode,
  nodeId,
  ROOT_ID,
  treeNode,
} from '../../src/dag/index.js';
import {
  RefConflictError,
  RefInputError,
  RefNotFoundError,
  repairStore,
  Store,
  StoreLockedError,
  storePaths,
  WalReplayError,
} from '../../src/store/index.js';
import { encodeRecord, MAX_RECORD_PAYLOAD, WalOp, WalRecordError } from '../../src/wal/index.js';

import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-store-');

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Puts a blob, a tree and a snapshot on `parent`; returns the snapshot id. */
async function commit(store: Store, parent: string, content: string): Promise<string> {
  const b = blobNode(text(content));
  const t = treeNode({ 'file.txt': { kind: 'blob', id: nodeId(b) } });
  await store.put([b, t]);
  const snap = makeNode(
    'snapshot',
    [parent],
    { tree: fromHex(nodeId(t))!, message: content, author: 'test', sws: null, patches: [] },
    (id) => store.reader.info(id).lamport,
  );
  const [id] = await store.put([snap]);
  return id!;
}

describe('store - durability and replay', () => {
  it('a fresh store holds the root; what is written comes back after reopen', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    assert.ok(s.reader.has(ROOT_ID));
    const s1 = await commit(s, ROOT_ID, 'one');
    await s.setRef({ name: 'main', kind: 'branch', target: s1 });
    const s2 = await commit(s, s1, 'two');
    await s.setRef({ name: 'main', kind: 'branch', target: s2 });
    await s.setRef({ name: 'v1', kind: 'tag', target: s1 });
    const digest = s.digest();
    await s.close();
    const again = await Store.open(dir);
    assert.equal(again.boot.checkpoint, 'none');
    assert.ok(again.boot.replayed > 0);
    assert.equal(again.digest(), digest);
    assert.equal(again.getRef('main')?.target, s2);
    assert.equal(again.getRef('v1')?.target, s1);
    await again.close();
  });

  it('replay from a checkpoint and replay from empty give the same digest', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    let head = ROOT_ID;
    for (let i = 0; i < 20; i++) head = await commit(s, head, `c${i}`);
    await s.setRef({ name: 'main', kind: 'branch', target: head });
    await s.checkpoint();
    for (let i = 20; i < 30; i++) head = await commit(s, head, `c${i}`);
    await s.setRef({ name: 'main', kind: 'branch', target: head });
    const digest = s.digest();
    await s.close();

    const withCp = await Store.open(dir);
    assert.equal(withCp.boot.checkpoint, 'used');
    assert.equal(withCp.digest(), digest);
    const replayedWithCp = withCp.boot.replayed;
    await withCp.close();

    await unlink(storePaths(dir).checkpoint);
    const full = await Store.open(dir);
    assert.equal(full.boot.checkpoint, 'none');
    assert.equal(full.digest(), digest);
    assert.ok(full.boot.replayed > replayedWithCp, `${full.boot.replayed} > ${replayedWithCp}`);
    await full.close();
  });

  it('a checkpoint that belongs to another log is ignored, never trusted', async () => {
    const a = await tmp();
    const b = await tmp();
    const sa = await Store.open(a);
    await commit(sa, ROOT_ID, 'a');
    await sa.checkpoint();
    await sa.close();
    const sb = await Store.open(b);
    await commit(sb, ROOT_ID, 'b-longer-content-so-offsets-differ');
    await commit(sb, ROOT_ID, 'b2');
    const digest = sb.digest();
    await sb.close();
    await copyFile(storePaths(a).checkpoint, storePaths(b).checkpoint);
    const again = await Store.open(b);
    assert.match(again.boot.checkpoint, /^ignored: /);
    assert.equal(again.digest(), digest);
    await again.close();
  });

  it('a record that verifies but breaks an invariant stops boot naming its offset', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    await commit(s, ROOT_ID, 'x');
    const end = s.walBytes;
    const ts = s.lastTs;
    await s.close();
    const orphan: JitNode = {
      type: 'blob',
      parents: ['ab'.repeat(32)],
      payload: text('orphan'),
      meta: { lamport: 1 },
    };
    await appendFile(
      storePaths(dir).wal,
      encodeRecord(WalOp.CREATE_NODE, ts + 1, encodeNode(orphan)),
    );
    await assert.rejects(Store.open(dir), (e: unknown) => {
      assert.ok(e instanceof WalReplayError, String(e));
      assert.equal(e.details.offset, end);
      assert.match(e.message, /invariant 4/);
      return true;
    });
    // repair sets the record (and all after it) aside; the store then boots with what came before
    const r = await repairStore(dir);
    assert.equal(r.kept, end);
    assert.match(r.replayFailure ?? '', /invariant 4/);
    const again = await Store.open(dir);
    assert.equal(again.walBytes, end);
    await again.close();
  });

  it('nothing is visible before it is durable; concurrent writes build on admitted ones', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    const b = blobNode(text('in flight'));
    const t = treeNode({ f: { kind: 'blob', id: nodeId(b) } });
    const pb = s.put([b]);
    assert.equal(s.reader.has(nodeId(b)), false, 'not visible before the ack');
    const pt = s.put([t]); // refers to b, which is admitted but not yet durable
    await Promise.all([pb, pt]);
    assert.ok(s.reader.has(nodeId(b)));
    assert.ok(s.reader.has(nodeId(t)));
    await s.close();
  });

  it('a record the log refuses (too large) is an error for that call only; the store stays usable', async () => {
    const s = await Store.open(await tmp());
    const bytes = s.walBytes;
    const huge = blobNode(new Uint8Array(MAX_RECORD_PAYLOAD + 1));
    await assert.rejects(s.put([huge]), WalRecordError);
    assert.equal(s.walBytes, bytes);
    assert.equal(s.reader.has(nodeId(huge)), false);
    await s.put([blobNode(text('after'))]);
    await s.close();
  });

  it('putting an existing node is a no-op that writes nothing', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    await s.put([blobNode(text('same'))]);
    const bytes = s.walBytes;
    await s.put([blobNode(text('same'))]);
    assert.equal(s.walBytes, bytes);
    await s.close();
  });
});

describe('store - transactions', () => {
  it('a transaction builds on its own earlier entries and lands as one atomic append', async () => {
    const s = await Store.open(await tmp());
    const b = blobNode(text('tx'));
    const t = treeNode({ f: { kind: 'blob', id: nodeId(b) } });
    const snap = makeNode(
      'snapshot',
      [ROOT_ID],
      { tree: fromHex(nodeId(t))!, message: 'm', author: 'a', sws: null, patches: [] },
      () => 0,
    );
    const { result, durable } = s.transact((tx) => {
      tx.put([b, t, snap]);
      return tx.setRef({ name: 'main', kind: 'branch', target: nodeId(snap) });
    });
    assert.equal(result?.target, nodeId(snap));
    assert.equal(s.getRef('main'), undefined, 'not visible before durable');
    await durable;
    assert.equal(s.getRef('main')?.target, nodeId(snap));
    assert.ok(s.reader.has(nodeId(t)));
    await s.close();
  });

  it('a throw inside a transaction undoes everything it admitted', async () => {
    const s = await Store.open(await tmp());
    const a = await commit(s, ROOT_ID, 'a');
    const bytes = s.walBytes;
    const b = blobNode(text('never'));
    assert.throws(() =>
      s.transact((tx) => {
        tx.put([b]);
        tx.setRef({ name: 'main', kind: 'branch', target: a });
        throw new Error('changed my mind');
      }),
    );
    // the refused transaction left no admitted trace: a tree on the blob is refused, main is free
    assert.throws(
      () => s.transact((tx) => tx.put([treeNode({ f: { kind: 'blob', id: nodeId(b) } })])),
      /not in the DAG/,
    );
    await s.setRef({ name: 'main', kind: 'branch', target: a, expect: null });
    assert.equal(s.walBytes > bytes, true);
    await s.close();
  });

  it('a transaction that adds nothing resolves only after what came before is durable', async () => {
    const s = await Store.open(await tmp());
    const order: string[] = [];
    const first = s.transact((tx) => tx.put([blobNode(text('first'))]));
    void first.durable.then(() => order.push('write'));
    const empty = s.transact(() => 'read');
    await empty.durable.then(() => order.push('read'));
    assert.deepEqual(order, ['write', 'read']);
    await s.close();
  });
});

describe('store - refs', () => {
  async function withSnapshots(): Promise<{ s: Store; a: string; b: string; blob: string }> {
    const s = await Store.open(await tmp());
    const a = await commit(s, ROOT_ID, 'a');
    const b = await commit(s, a, 'b');
    const [blob] = await s.put([blobNode(text('a'))]);
    return { s, a, b, blob: blob! };
  }

  it('tags never move and cannot be deleted; setting one again to its target is a no-op', async () => {
    const { s, a, b } = await withSnapshots();
    await s.setRef({ name: 'v1', kind: 'tag', target: a });
    const bytes = s.walBytes;
    await s.setRef({ name: 'v1', kind: 'tag', target: a });
    assert.equal(s.walBytes, bytes);
    await assert.rejects(s.setRef({ name: 'v1', kind: 'tag', target: b }), RefConflictError);
    await assert.rejects(s.setRef({ name: 'v1', kind: 'tag', target: null }), RefConflictError);
    assert.equal(s.getRef('v1')?.target, a);
    assert.equal(s.walBytes, bytes, 'refused updates write nothing');
    await s.close();
  });

  it('branches move, honour expect, point only at snapshots, and can be deleted', async () => {
    const { s, a, b, blob } = await withSnapshots();
    await s.setRef({ name: 'main', kind: 'branch', target: a, expect: null });
    await assert.rejects(
      s.setRef({ name: 'main', kind: 'branch', target: b, expect: b }),
      RefConflictError,
    );
    await s.setRef({ name: 'main', kind: 'branch', target: b, expect: a });
    assert.equal(s.getRef('main')?.target, b);
    await assert.rejects(s.setRef({ name: 'main', kind: 'branch', target: blob }), RefInputError);
    await assert.rejects(s.setRef({ name: 'main', kind: 'tag', target: b }), RefConflictError);
    await assert.rejects(
      s.setRef({ name: 'x', kind: 'branch', target: 'cd'.repeat(32) }),
      RefNotFoundError,
    );
    await s.setRef({ name: 'main', kind: 'branch', target: null });
    assert.equal(s.getRef('main'), undefined);
    await assert.rejects(
      s.setRef({ name: 'main', kind: 'branch', target: null }),
      RefNotFoundError,
    );
    await s.close();
  });

  it('refuses bad names and HEAD', async () => {
    const { s, a } = await withSnapshots();
    for (const name of ['', 'HEAD', 'a..b', '/x', 'x/', 'a b', 'x.lock', '-x']) {
      await assert.rejects(
        s.setRef({ name, kind: 'branch', target: a }),
        RefInputError,
        JSON.stringify(name),
      );
    }
    await s.setRef({ name: 'feature/x-1', kind: 'branch', target: a });
    await s.close();
  });
});

describe('store - lock', () => {
  it('a second open of the same directory is refused until the first closes', async () => {
    const dir = await tmp();
    const s = await Store.open(dir);
    await assert.rejects(
      Store.open(dir),
      (e: unknown) => e instanceof StoreLockedError && /in use by process/.test(e.message),
    );
    await s.close();
    const again = await Store.open(dir);
    await again.close();
    await again.close(); // idempotent
  });
  it('a lock left by a dead process is taken over', async () => {
    const dir = await tmp();
    await (await Store.open(dir)).close();
    await writeFile(storePaths(dir).lock, '999999999\n');
    const s = await Store.open(dir);
    await s.close();
  });
});
