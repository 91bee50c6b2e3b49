import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { type CborValue, decode, encode } from '../codec/index.js';
import { StreamMarks } from './marks.js';
import { CLOCK_SKEW_MS } from './plane.js';

const debug = debuglog('jit:bridge');

/** An answer the bridge gave, kept so a copy of its command is answered the same, never run again. */
export interface Answered {
  readonly topic: string;
  readonly answer: CborValue;
  /** The command's expiry (ms since the epoch): after it, copies are refused as expired anyway. */
  readonly exp: number;
  /** Where the command stood in its sender's stream: its mark, restored with the answer at boot. */
  readonly mark?: MarkedAt;
}

/** A command's place in its stream (see `StreamMarks`), and how long the mark it set is kept. */
export interface MarkedAt {
  readonly key: string;
  readonly ep: number;
  readonly seq: number;
  readonly until: number;
}

/**
 * Where the bridge keeps its answers by `(sender, message id)`. In memory by default; jitd keeps
 * them in a file too, so a command replayed after a restart is still recognised.
 */
export interface AnswerStore {
  /** The streams' high-water marks, kept (and for a file, restored) with the answers. */
  readonly marks: StreamMarks;
  get(key: string): Answered | undefined;
  set(key: string, a: Answered): void;
  close(): Promise<void>;
}

/** Answers kept at most (the oldest go first; a copy of one that went is run again: idempotent). */
const MAX_ANSWERS = 200_000;

/** The in-memory store: insertion order, bounded, expired entries dropped as they come up. */
export class MemoryAnswers implements AnswerStore {
  protected readonly map = new Map<string, Answered>();
  protected readonly limit: number;
  readonly marks = new StreamMarks();

  constructor(limit = MAX_ANSWERS) {
    this.limit = limit;
  }

  get(key: string): Answered | undefined {
    const a = this.map.get(key);
    if (a !== undefined && a.exp + CLOCK_SKEW_MS < Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return a;
  }

  set(key: string, a: Answered): void {
    this.keep(key, a);
  }

  /** Keeps `a` in memory, forgetting the oldest past the limit. */
  protected keep(key: string, a: Answered): void {
    this.map.set(key, a);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as string);
  }

  async close(): Promise<void> {}
}

/** Records encoded per step of a compaction, between which the event loop runs. */
const COMPACT_STEP = 4096;

/**
 * Answers kept in memory and appended to a file (length-prefixed canonical CBOR records, see
 * `answerRecord`), with the stream marks their commands set; read back at boot without the
 * expired ones and compacted. Appends
 * are written (not synced) once per tick: they survive a crash of jitd, and an OS crash loses
 * at most the last moments — whose commands, replayed, are run again, which changes nothing
 * (every kernel command is idempotent). While jitd runs, the file is compacted again (rewritten
 * with what is still kept, in steps) each time twice `limit` records were appended since the
 * last compaction, so it stays within about three times what memory keeps. Answers given during
 * a compaction are written once it ends (a crash of jitd meanwhile loses them: their commands,
 * replayed, run again).
 */
export class FileAnswers extends MemoryAnswers {
  private fh: FileHandle | undefined;
  private queue: Uint8Array[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly path: string;
  private appended = 0;
  private compacting: Promise<void> | undefined;
  /** Compactions done while running (not counting the one at open). */
  compactions = 0;

  private constructor(path: string, limit: number) {
    super(limit);
    this.path = path;
  }

  static async open(path: string, limit = MAX_ANSWERS): Promise<FileAnswers> {
    const s = new FileAnswers(path, limit);
    const now = Date.now();
    try {
      const b = await readFile(path);
      for (let at = 0; at + 4 <= b.length; ) {
        const n = b.readUInt32BE(at);
        if (at + 4 + n > b.length) break; // a torn last record
        const body = b.subarray(at + 4, at + 4 + n);
        at += 4 + n;
        try {
          s.load(decode(body) as CborValue[], now);
        } catch (e) {
          debug('answers: skipping a damaged record: %o', e);
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // compact: only what is still valid
    await s.rewrite();
    return s;
  }

  /** One record read back at open: an answer (and the mark its command set), or a mark alone. */
  private load(r: CborValue[], now: number): void {
    if (r[0] === null) {
      const [, key, ep, seq, until] = r as [null, string, number, number, number];
      this.marks.advance(key, ep, seq, until, now);
      return;
    }
    const [key, topic, answer, exp, markKey, ep, seq, until] = r as [
      string,
      string,
      CborValue,
      number,
      string?,
      number?,
      number?,
      number?,
    ];
    let mark: MarkedAt | undefined;
    if (markKey !== undefined) {
      mark = { key: markKey, ep: ep!, seq: seq!, until: until! };
      this.marks.advance(mark.key, mark.ep, mark.seq, mark.until, now);
    }
    if (exp + CLOCK_SKEW_MS >= now)
      this.keep(key, mark === undefined ? { topic, answer, exp } : { topic, answer, exp, mark });
  }

  override set(key: string, a: Answered): void {
    super.set(key, a);
    if (this.queue.length === 0) process.nextTick(() => this.flush());
    this.queue.push(answerRecord(key, a));
    if (++this.appended >= 2 * this.limit && this.compacting === undefined && this.fh) {
      this.compacting = this.compact()
        .catch((e: unknown) => debug('answers: cannot compact: %o', e))
        .finally(() => {
          this.compacting = undefined;
          this.flush();
        });
    }
  }

  /** Compacts the file while running; appends wait in the queue meanwhile. */
  private async compact(): Promise<void> {
    this.appended = 0;
    await this.writing;
    await this.rewrite();
    this.compactions++;
  }

  /** Rewrites the file with the answers still kept (in steps), and appends to it from then on. */
  private async rewrite(): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}`;
    const out = await open(tmp, 'w', 0o600);
    try {
      const kept = [...this.map];
      const now = Date.now();
      for (let i = 0; i < kept.length; i += COMPACT_STEP) {
        const recs: Uint8Array[] = [];
        for (const [key, a] of kept.slice(i, i + COMPACT_STEP))
          if (a.exp + CLOCK_SKEW_MS >= now) recs.push(answerRecord(key, a));
        await out.write(Buffer.concat(recs));
      }
      // every mark still kept, on its own (its answers may be gone before it)
      let recs: Uint8Array[] = [];
      for (const [key, m] of this.marks.entries(now)) {
        recs.push(lengthPrefixed(encode([null, key, m.ep, m.seq, m.until])));
        if (recs.length === COMPACT_STEP) {
          await out.write(Buffer.concat(recs));
          recs = [];
        }
      }
      if (recs.length > 0) await out.write(Buffer.concat(recs));
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    const old = this.fh;
    this.fh = await open(this.path, 'a', 0o600);
    await old?.close();
  }

  private flush(): void {
    // while compacting, appends wait: they go to the compacted file once it is in place
    if (this.compacting !== undefined) return;
    const batch = this.queue;
    this.queue = [];
    const fh = this.fh;
    if (fh === undefined || batch.length === 0) return;
    this.writing = this.writing
      .then(() => fh.write(Buffer.concat(batch)))
      .then(
        () => undefined,
        (e: unknown) => debug('answers: cannot append: %o', e),
      );
  }

  /** Resolves once a running compaction has ended and every answer so far is written. */
  async settled(): Promise<void> {
    await this.compacting;
    this.flush();
    await this.writing;
  }

  override async close(): Promise<void> {
    await this.settled();
    await this.fh?.close();
    this.fh = undefined;
  }
}

/**
 * One answer record of the file: a u32 length, then canonical CBOR `[key, topic, answer, exp]`,
 * followed by `markKey, ep, seq, until` when the answer's command set a mark. A mark alone (written
 * when compacting) is `[null, markKey, ep, seq, until]`.
 */
function answerRecord(key: string, a: Answered): Uint8Array {
  const m = a.mark;
  return lengthPrefixed(
    encode(
      m === undefined
        ? [key, a.topic, a.answer, a.exp]
        : [key, a.topic, a.answer, a.exp, m.key, m.ep, m.seq, m.until],
    ),
  );
}

function lengthPrefixed(body: Uint8Array): Uint8Array {
  const rec = new Uint8Array(4 + body.length);
  new DataView(rec.buffer).setUint32(0, body.length);
  rec.set(body, 4);
  return rec;
}
