import { CLOCK_SKEW_MS } from './plane.js';

/**
 * Commands this far behind a stream's mark, in its own epoch, are refused: too old to tell from a
 * replay once their answers may have been forgotten. Within it, the answers kept by message id
 * decide (a late command, e.g. one the relay refused for its rate and the outbox sent again, is
 * run; a copy of one answered gets the answer again).
 */
export const MARK_WINDOW = 65_536;

/** Streams marked at most (the least recently advanced go first). */
const MAX_MARKS = 100_000;

/** The highest (epoch, seq) the kernel has taken of one sender's commands on one topic. */
export interface StreamMark {
  readonly ep: number;
  readonly seq: number;
  /** Kept until then (ms since the epoch): after it every message it could refuse has expired. */
  readonly until: number;
}

/** Why a command is refused by its stream's mark. */
export type MarkRefusal = 'old-stream' | 'behind-mark';

/**
 * Per-(sender, topic) high-water marks of the commands the kernel took (issue 6, replay
 * detection). A sender's plane numbers each topic 1, 2, 3… within its stream epoch (`Envelope.ep`,
 * larger after every restart), so (ep, seq) orders all it ever sent there. A command from an
 * epoch older than the mark is from a stream its sender has left: a replay (or an old stream's
 * message delivered after the restart, which its sender, gone, no longer waits for). One more than
 * `MARK_WINDOW` behind the mark in the same epoch is refused too. jitd keeps the marks in
 * `answers.log` with the answers, so they hold across its restarts.
 *
 * A mark is kept `MAX_TTL_MS` past its last advance: every message it could refuse was sent before
 * that advance, so it has expired by then and is refused as expired anyway.
 */
export class StreamMarks {
  private readonly map = new Map<string, StreamMark>();
  private readonly limit: number;

  constructor(limit = MAX_MARKS) {
    this.limit = limit;
  }

  /** The key of `sender`'s stream on `topic`. */
  static key(sender: string, topic: string): string {
    return `${sender}\u0000${topic}`;
  }

  get size(): number {
    return this.map.size;
  }

  /** Why message (ep, seq) of stream `key` is refused, or undefined. Epoch 0 is "no epoch". */
  check(key: string, ep: number, seq: number, now = Date.now()): MarkRefusal | undefined {
    const m = this.live(key, now);
    if (m === undefined) return undefined;
    if (ep < m.ep) return 'old-stream';
    if (ep === m.ep && ep !== 0 && seq + MARK_WINDOW <= m.seq) return 'behind-mark';
    return undefined;
  }

  /** Stream `key`'s mark, while it is kept. */
  get(key: string, now = Date.now()): StreamMark | undefined {
    return this.live(key, now);
  }

  /** Raises stream `key`'s mark to (ep, seq) if that is higher, and keeps it until `until` at least. */
  advance(key: string, ep: number, seq: number, until: number, now = Date.now()): void {
    const m = this.live(key, now);
    const higher = m === undefined || ep > m.ep || (ep === m.ep && seq > m.seq);
    this.map.delete(key);
    this.map.set(key, {
      ep: higher ? ep : m.ep,
      seq: higher ? seq : m.seq,
      until: Math.max(until, m?.until ?? 0),
    });
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as string);
  }

  /** The marks still kept, oldest advance first. */
  *entries(now = Date.now()): IterableIterator<[string, StreamMark]> {
    for (const [k, m] of this.map) if (m.until + CLOCK_SKEW_MS >= now) yield [k, m];
  }

  private live(key: string, now: number): StreamMark | undefined {
    const m = this.map.get(key);
    if (m !== undefined && m.until + CLOCK_SKEW_MS < now) {
      this.map.delete(key);
      return undefined;
    }
    return m;
  }
}
