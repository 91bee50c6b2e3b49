import assert from 'node:assert/strict';
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encode } from '../../src/codec/index.js';
import {
  encodeRecord,
  openLog,
  RECORD_OVERHEAD,
  repairLog,
  scanLog,
  WalClosedError,
  WalCorruptionError,
  WalOp,
  type WalOpNumber,
  type WalRecord,
  WalRecordError,
} from '../../src/wal/index.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-wal-');

async function readAll(
  path: string,
): Promise<{ op: number; ts: number; payload: string; offset: number }[]> {
  const out: { op: number; ts: number; payload: string; offset: number }[] = [];
  const r = await scanLog(path, {
    onRecord: (rec: WalRecord) =>
      out.push({
        op: rec.op,
        ts: rec.ts,
        payload: Buffer.from(rec.payload).toString('hex'),
        offset: rec.offset,
      }),
  });
  assert.equal(r.tail.kind, 'clean');
  return out;
}

/** A log of `n` records, each payload encode({i}). Returns its path and record offsets. */
async function makeLog(n: number): Promise<{ path: string; offsets: number[] }> {
  const path = join(await tmp(), 'log.wal');
  const { writer } = await openLog(path);
  const done = await writer.append(
    Array.from({ length: n }, (_, i) => ({
      op: WalOp.CREATE_NODE as WalOpNumber,
      payload: encode({ i, pad: 'x'.repeat(i % 40) }),
    })),
  );
  await writer.close();
  return { path, offsets: done.map((d) => d.offset) };
}

describe('wal - append and scan', () => {
  it('records come back in order with strictly increasing ts and their offsets', async () => {
    const { path, offsets } = await makeLog(100);
    const recs = await readAll(path);
    assert.equal(recs.length, 100);
    recs.forEach((r, i) => {
      assert.equal(r.ts, i + 1);
      assert.equal(r.offset, offsets[i]);
      assert.equal(r.payload, Buffer.from(encode({ i, pad: 'x'.repeat(i % 40) })).toString('hex'));
    });
  });

  it('reopening continues the ts sequence at the end of the log', async () => {
    const { path } = await makeLog(3);
    const { writer, scan } = await openLog(path);
    assert.equal(scan.records, 3);
    const [a] = await writer.append([{ op: WalOp.SET_REF, payload: encode({ name: 'main' }) }]);
    assert.equal(a!.ts, 4);
    assert.equal(a!.offset, scan.end);
    await writer.close();
    assert.equal((await readAll(path)).length, 4);
  });

  it('group commit: concurrent appends share syncs and are all durable when acknowledged', async () => {
    const path = join(await tmp(), 'log.wal');
    const { writer } = await openLog(path);
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writer.append([{ op: WalOp.CREATE_NODE, payload: encode(i) }]),
      ),
    );
    assert.ok(writer.syncs < 200, `expected fewer syncs than appends, got ${writer.syncs}`);
    assert.ok((await stat(path)).size >= writer.end, 'the file holds every record');
    assert.deepEqual(
      acks.map((a) => a[0]!.ts),
      Array.from({ length: 200 }, (_, i) => i + 1),
      'admission order is log order',
    );
    const end = writer.end;
    await writer.close();
    assert.equal((await stat(path)).size, end, 'close cuts the preallocated zeros off');
    assert.equal((await readAll(path)).length, 200);
  });

  it('refuses an unknown op or an aborted signal without writing anything', async () => {
    const path = join(await tmp(), 'log.wal');
    const { writer } = await openLog(path);
    assert.throws(
      () => writer.append([{ op: 99 as WalOpNumber, payload: encode(1) }]),
      WalRecordError,
    );
    const ac = new AbortController();
    ac.abort();
    assert.throws(
      () => writer.append([{ op: WalOp.CREATE_NODE, payload: encode(1) }], { signal: ac.signal }),
      { name: 'AbortError' },
    );
    await writer.close();
    assert.equal((await stat(path)).size, 0);
    await assert.rejects(
      writer.append([{ op: WalOp.CREATE_NODE, payload: encode(1) }]),
      WalClosedError,
    );
    await writer.close(); // idempotent
  });

  it('a failed write poisons the writer until the log is reopened', async () => {
    const path = join(await tmp(), 'log.wal');
    const { writer } = await openLog(path);
    await writer.append([{ op: WalOp.CREATE_NODE, payload: encode(1) }]);
    await (writer as unknown as { fh: { close(): Promise<void> } }).fh.close();
    await assert.rejects(
      writer.append([{ op: WalOp.CREATE_NODE, payload: encode(2) }]),
      WalClosedError,
    );
    await assert.rejects(writer.append([{ op: WalOp.CREATE_NODE, payload: encode(3) }]), /failed/);
    const again = await openLog(path);
    assert.equal(again.scan.records, 1);
    await again.writer.close();
  });
});

describe('wal - recovery', () => {
  it('a torn tail at any cut point is truncated and every earlier record kept', async () => {
    const { path, offsets } = await makeLog(6);
    const full = await readFile(path);
    const last = offsets[5]!;
    for (let cut = last + 1; cut < full.length; cut += 7) {
      await writeFile(path, full.subarray(0, cut));
      const { writer, scan, truncated } = await openLog(path);
      await writer.close();
      assert.equal(scan.records, 5, `cut at ${cut}`);
      assert.equal(truncated, cut - last);
      assert.equal((await stat(path)).size, last);
    }
  });

  it('zeros after the last record (preallocated, the writer never closed) are a clean tail, written over', async () => {
    const { path } = await makeLog(4);
    const size = (await stat(path)).size;
    await appendFile(path, new Uint8Array(4096));
    const scanned = await scanLog(path);
    assert.deepEqual(scanned.tail, { kind: 'clean' });
    assert.equal(scanned.end, size);
    assert.equal(scanned.size, size + 4096);
    const { writer, scan, truncated } = await openLog(path);
    assert.equal(scan.records, 4);
    assert.equal(truncated, 0);
    const [a] = await writer.append([{ op: WalOp.CREATE_NODE, payload: encode(5) }]);
    assert.equal(a!.offset, size, 'the next record goes where the zeros start');
    const end = writer.end;
    await writer.close();
    assert.equal((await stat(path)).size, end);
    assert.equal((await readAll(path)).length, 5);
  });

  it('a torn record followed by zeros is torn, and cut off', async () => {
    const { path, offsets } = await makeLog(4);
    const full = await readFile(path);
    await writeFile(
      path,
      Buffer.concat([full.subarray(0, offsets[3]! + 30), new Uint8Array(8192)]),
    );
    const { writer, scan, truncated } = await openLog(path);
    await writer.close();
    assert.equal(scan.records, 3);
    assert.equal(truncated, 30 + 8192);
    assert.equal((await stat(path)).size, offsets[3]);
  });

  it('the writer preallocates ahead of its records and a reopen after a crash finds them all', async () => {
    const path = join(await tmp(), 'log.wal');
    const { writer } = await openLog(path);
    const payload = encode({ pad: 'p'.repeat(1000) });
    for (let i = 0; i < 64; i++)
      await Promise.all(
        Array.from({ length: 8 }, () => writer.append([{ op: WalOp.CREATE_NODE, payload }])),
      );
    await writer.flush();
    const end = writer.end;
    // the fill of the first chunk runs beside the commits: wait for it without closing
    await (writer as unknown as { prealloc: { running?: Promise<void> } }).prealloc.running;
    const size = (await stat(path)).size;
    assert.ok(size > end, `file ${size} bytes, records end at ${end}: nothing preallocated`);
    // a crash: the file is left as it is, zeros and all (copied while the writer is open)
    const crashed = join(await tmp(), 'crashed.wal');
    await writeFile(crashed, await readFile(path));
    await writer.close();
    const again = await openLog(crashed);
    assert.equal(again.scan.records, 512);
    assert.equal(again.scan.end, end);
    assert.equal(again.truncated, 0);
    await again.writer.close();
    assert.equal((await stat(crashed)).size, end);
  });

  it('a bad record before the tail stops the open, naming file and offset, and changes nothing', async () => {
    const seed = testSeed();
    const r = rng(seed);
    const { path, offsets } = await makeLog(10);
    const k = 1 + r.int(7);
    const bytes = await readFile(path);
    const at = offsets[k]! + 24 + r.int(8);
    bytes[at]! ^= 0x40;
    await writeFile(path, bytes);
    await assert.rejects(openLog(path), (e: unknown) => {
      assert.ok(e instanceof WalCorruptionError, String(e));
      assert.equal(e.file, path);
      assert.equal(e.offset, offsets[k], replayHint(seed, 'wal.test'));
      assert.match(e.message, /jit wal repair/);
      return true;
    });
    assert.deepEqual(await readFile(path), bytes, 'a refused open leaves the file untouched');
  });

  it('a flipped length field mid-log is corruption, not a torn tail (later records verify)', async () => {
    const { path, offsets } = await makeLog(10);
    const bytes = await readFile(path);
    bytes[offsets[3]! + 16]! ^= 0x01; // top byte of payload_len: the record now "ends" past EOF
    await writeFile(path, bytes);
    await assert.rejects(
      openLog(path),
      (e: unknown) => e instanceof WalCorruptionError && e.offset === offsets[3],
    );
  });

  it('a record whose ts does not increase is corruption', async () => {
    const { path } = await makeLog(2);
    await appendFile(path, encodeRecord(WalOp.CREATE_NODE, 2, encode('again')));
    await appendFile(path, encodeRecord(WalOp.CREATE_NODE, 9, encode('later')));
    await assert.rejects(
      openLog(path),
      (e: unknown) => e instanceof WalCorruptionError && e.reason === 'ts-not-increasing',
    );
  });

  it('repair keeps the verifying prefix, sets the rest aside, and the log opens again', async () => {
    const { path, offsets } = await makeLog(10);
    const bytes = await readFile(path);
    bytes[offsets[4]! + 30]! ^= 0xff;
    await writeFile(path, bytes);
    const res = await repairLog(path);
    assert.equal(res.kept, offsets[4]);
    assert.equal(res.records, 4);
    assert.equal(res.setAside, bytes.length - offsets[4]!);
    assert.deepEqual(await readFile(res.asideFile!), bytes.subarray(offsets[4]!));
    const { writer, scan } = await openLog(path);
    await writer.close();
    assert.equal(scan.records, 4);
    const clean = await repairLog(path);
    assert.equal(clean.setAside, 0);
    assert.equal(clean.asideFile, null);
  });

  it('scanning from a mid-log offset verifies only what follows', async () => {
    const { path, offsets } = await makeLog(8);
    const seen: number[] = [];
    const r = await scanLog(path, {
      from: offsets[5]!,
      fromTs: 5,
      onRecord: (rec) => seen.push(rec.ts),
    });
    assert.deepEqual(seen, [6, 7, 8]);
    assert.equal(r.records, 3);
    await truncate(path, offsets[7]! + RECORD_OVERHEAD - 1);
    const t = await scanLog(path, { from: offsets[5]!, fromTs: 5 });
    assert.equal(t.tail.kind, 'torn');
  });
});
