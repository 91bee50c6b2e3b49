import type { FileHandle } from 'node:fs/promises';
import { open, readFile, rename } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { type CborValue, decode, encode } from '../codec/index.js';
import { CLOCK_SKEW_MS } from './plane.js';

const debug = debuglog('jit:bridge');

/** An answer the bridge gave, kept so a copy of its command is answered the same, never run again. */
export interface Answered {
  readonly topic: string;
  readonly answer: CborValue;
  /** The command's expiry (ms since the epoch): after it, copies are refused as expired anyway. */
  readonly exp: number;
}

/**
 * Where the bridge keeps its answers by `(sender, message id)`. In memory by default; jitd keeps
 * them in a file too, so a command replayed after a restart is still recognised.
 */
export interface AnswerStore {
  get(key: string): Answered | undefined;
  set(key: string, a: Answered): void;
  close(): Promise<void>;
}

/** Answers kept at most (the oldest go first; a copy of one that went is run again: idempotent). */
const MAX_ANSWERS = 200_000;

/** The in-memory store: insertion order, bounded, expired entries dropped as they come up. */
export class MemoryAnswers implements AnswerStore {
  protected readonly map = new Map<string, Answered>();
  private readonly limit: number;

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
    this.map.set(key, a);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as string);
  }

  async close(): Promise<void> {}
}

/**
 * Answers kept in memory and appended to a file (length-prefixed canonical CBOR records
 * `[key, topic, answer, exp]`), read back at boot without the expired ones and compacted. Appends
 * are written (not synced) once per tick: they survive a crash of jitd, and an OS crash loses
 * at most the last moments — whose commands, replayed, are run again, which changes nothing
 * (every kernel command is idempotent).
 */
export class FileAnswers extends MemoryAnswers {
  private fh: FileHandle | undefined;
  private queue: Uint8Array[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(limit: number) {
    super(limit);
  }

  static async open(path: string, limit = MAX_ANSWERS): Promise<FileAnswers> {
    const s = new FileAnswers(limit);
    const now = Date.now();
    let kept: Uint8Array[] = [];
    try {
      const b = await readFile(path);
      for (let at = 0; at + 4 <= b.length; ) {
        const n = b.readUInt32BE(at);
        if (at + 4 + n > b.length) break; // a torn last record
        const rec = b.subarray(at, at + 4 + n);
        at += 4 + n;
        try {
          const [key, topic, answer, exp] = decode(rec.subarray(4)) as [
            string,
            string,
            CborValue,
            number,
          ];
          if (exp + CLOCK_SKEW_MS < now) continue;
          s.map.set(key, { topic, answer, exp });
          kept.push(rec);
        } catch (e) {
          debug('answers: skipping a damaged record: %o', e);
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (kept.length > limit) kept = kept.slice(kept.length - limit);
    // compact: only what is still valid
    const tmp = `${path}.tmp-${process.pid}`;
    const out = await open(tmp, 'w', 0o600);
    try {
      for (const r of kept) await out.write(r);
    } finally {
      await out.close();
    }
    await rename(tmp, path);
    s.fh = await open(path, 'a', 0o600);
    return s;
  }

  override set(key: string, a: Answered): void {
    super.set(key, a);
    const body = encode([key, a.topic, a.answer, a.exp]);
    const rec = new Uint8Array(4 + body.length);
    new DataView(rec.buffer).setUint32(0, body.length);
    rec.set(body, 4);
    if (this.queue.length === 0) process.nextTick(() => this.flush());
    this.queue.push(rec);
  }

  private flush(): void {
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

  override async close(): Promise<void> {
    this.flush();
    await this.writing;
    await this.fh?.close();
    this.fh = undefined;
  }
}
