import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, toHex } from '../../src/codec/index.js';
import {
  CLOCK_SKEW_MS,
  FileAnswers,
  MARK_WINDOW,
  MemoryAnswers,
  StreamMarks,
} from '../../src/mp/index.js';
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

/** Far in the future (2100-01-01), so fixture records never expire. */
const FAR = 4_102_444_800_000;
const fixture = new URL('../../../test/fixtures/mp/answers-v1.hex', import.meta.url);

describe('stream marks', () => {
  it('refuse an older epoch and, within one, what is a window or more behind; epoch 0 has no window', () => {
    const m = new StreamMarks();
    const k = StreamMarks.key('alice', 'jit.sws.x.patch');
    assert.equal(m.check(k, 1, 1), undefined, 'no mark yet');
    m.advance(k, 2000, MARK_WINDOW + 10, FAR);
    assert.equal(m.check(k, 1999, 99_999), 'old-stream');
    assert.equal(m.check(k, 2000, 10), 'behind-mark');
    assert.equal(m.check(k, 2000, 11), undefined, 'inside the window: the answers decide');
    assert.equal(m.check(k, 2000, MARK_WINDOW + 11), undefined);
    assert.equal(m.check(k, 2001, 1), undefined, 'a newer stream');
    // a lower (ep, seq) never lowers the mark
    m.advance(k, 1000, 1, FAR);
    assert.equal(m.check(k, 2000, 10), 'behind-mark');
    const z = StreamMarks.key('bob', 't');
    m.advance(z, 0, MARK_WINDOW * 2, FAR);
    assert.equal(
      m.check(z, 0, 1),
      undefined,
      'without epochs a restart cannot be told from a replay',
    );
    assert.equal(m.check(StreamMarks.key('alice', 'other'), 1, 1), undefined, 'per topic');
  });

  it('are forgotten once past their time (with the clock skew allowed), and bounded in number', () => {
    const m = new StreamMarks(3);
    const now = 1_000_000;
    m.advance('a', 5, 1, now + 1000, now);
    assert.equal(m.check('a', 4, 1, now + 1000 + CLOCK_SKEW_MS), 'old-stream');
    assert.equal(m.check('a', 4, 1, now + 1001 + CLOCK_SKEW_MS), undefined);
    assert.equal(m.size, 0);
    for (const k of ['a', 'b', 'c', 'd']) m.advance(k, 5, 1, FAR, now);
    assert.equal(m.size, 3);
    assert.equal(m.check('a', 4, 1, now), undefined, 'the least recently advanced went first');
    assert.equal(m.check('d', 4, 1, now), 'old-stream');
  });

  it('are kept in the answers file and restored at open, even after their answers are gone', async () => {
    const path = join(await tmp(), 'answers.log');
    const a = await FileAnswers.open(path, 2);
    const mark = (seq: number) => ({ key: StreamMarks.key('alice', 't'), ep: 7, seq, until: FAR });
    a.set('alice\u0000m1', { topic: 's', answer: 1, exp: FAR, mark: mark(1) });
    a.marks.advance(mark(1).key, 7, 1, FAR);
    // later answers push the first out of memory (limit 2): its mark stays
    for (let i = 2; i <= 4; i++) a.set(`bob\u0000m${i}`, { topic: 's', answer: i, exp: FAR });
    await a.close();
    const b = await FileAnswers.open(path, 2);
    assert.equal(b.get('alice\u0000m1'), undefined, 'the answer is gone (limit 2)');
    assert.equal(b.marks.check(mark(1).key, 6, 1), 'old-stream', 'its mark is not');
    await b.close();
    // compacted at that open: the mark record carries it alone now
    const c = await FileAnswers.open(path, 2);
    assert.equal(c.marks.check(mark(1).key, 6, 1), 'old-stream');
    await c.close();
  });

  it('the answers file matches its golden bytes (a format change is caught) and reads back', async () => {
    const dir = await tmp();
    const path = join(dir, 'answers.log');
    const a = await FileAnswers.open(path);
    const mark = {
      key: StreamMarks.key('alice', 'jit.sws.00.patch'),
      ep: 1_800_000_000_000,
      seq: 3,
      until: FAR,
    };
    a.marks.advance(mark.key, mark.ep, mark.seq, mark.until);
    a.set('alice\u0000aa', {
      topic: 'jit.sws.00.status',
      answer: { ok: true, n: 1 },
      exp: FAR,
      mark,
    });
    a.set('bob\u0000bb', { topic: 'jit.sws.00.status', answer: { ok: false }, exp: FAR });
    await a.close();
    // reopened, the file is rewritten: the answers, then each mark on its own
    await (await FileAnswers.open(path)).close();
    const hex = toHex(await readFile(path));
    if (process.env.JIT_WRITE_FIXTURES === '1') writeFileSync(fixture, `${hex}\n`);
    assert.equal(hex, readFileSync(fixture, 'utf8').trim());
    const copy = join(dir, 'copy.log');
    writeFileSync(copy, Buffer.from(readFileSync(fixture, 'utf8').trim(), 'hex'));
    const b = await FileAnswers.open(copy);
    assert.deepEqual(b.get('alice\u0000aa')?.answer, { ok: true, n: 1 });
    assert.deepEqual(b.get('alice\u0000aa')?.mark, mark);
    assert.deepEqual(b.get('bob\u0000bb')?.answer, { ok: false });
    assert.equal(b.marks.check(mark.key, mark.ep - 1, 1), 'old-stream');
    await b.close();
  });

  it('the in-memory store has marks too', () => {
    const m = new MemoryAnswers(4);
    m.marks.advance('k', 2, 2, FAR);
    assert.equal(m.marks.check('k', 1, 9), 'old-stream');
  });
});
