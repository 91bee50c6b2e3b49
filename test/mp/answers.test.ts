import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode } from '../../src/codec/index.js';
import { FileAnswers } from '../../src/mp/index.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-answers-');

/** The keys of the records in an answers file, in file order. */
async function keysIn(path: string): Promise<string[]> {
  const b = await readFile(path);
  const keys: string[] = [];
  for (let at = 0; at + 4 <= b.length; ) {
    const n = b.readUInt32BE(at);
    keys.push((decode(b.subarray(at + 4, at + 4 + n)) as [string])[0]);
    at += 4 + n;
  }
  return keys;
}

describe('answers kept in a file', () => {
  it('are compacted while running, so the file stays within about three times what is kept', async () => {
    const path = join(await tmp(), 'answers.log');
    const limit = 10;
    const a = await FileAnswers.open(path, limit);
    const exp = Date.now() + 60_000;
    for (let i = 0; i < 100; i++) {
      a.set(`k${i}`, { topic: 't', answer: { i }, exp });
      // now and then the appends and a running compaction finish, as between bursts of commands
      if (i % 7 === 0) await a.settled();
    }
    await a.close();
    assert.ok(a.compactions >= 3, `compacted ${a.compactions} times`);
    const keys = await keysIn(path);
    assert.ok(keys.length <= 3 * limit + 7, `${keys.length} records in the file`);
    // the newest answers are all there; reopening keeps what is still kept
    for (let i = 90; i < 100; i++) assert.ok(keys.includes(`k${i}`), `k${i} is in the file`);
    const b = await FileAnswers.open(path, limit);
    for (let i = 90; i < 100; i++) assert.deepEqual(b.get(`k${i}`)?.answer, { i });
    assert.equal(b.get('k0'), undefined);
    await b.close();
  });

  it('an answer given during a compaction is in the file afterwards', async () => {
    const path = join(await tmp(), 'answers.log');
    const a = await FileAnswers.open(path, 4);
    const exp = Date.now() + 60_000;
    // the eighth set starts a compaction; the ninth and tenth come while it runs
    for (let i = 0; i < 10; i++) a.set(`k${i}`, { topic: 't', answer: i, exp });
    await a.close();
    assert.equal(a.compactions, 1);
    const keys = await keysIn(path);
    for (let i = 6; i < 10; i++) assert.ok(keys.includes(`k${i}`), `k${i} is in the file`);
  });
});
