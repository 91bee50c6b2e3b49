/** A bounded set of recent keys: the oldest falls out once `size` is reached. */
export class RecentKeys<K = string> {
  private readonly keys = new Set<K>();
  // insertion order as a ring, so evicting the oldest is O(1) (a Set's first entry is not, once
  // many have been deleted before it)
  private readonly ring: (K | undefined)[];
  private at = 0;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
    this.ring = new Array(size);
  }

  /** Adds `key`; false when it was already there. */
  add(key: K): boolean {
    if (this.keys.has(key)) return false;
    const old = this.ring[this.at];
    if (old !== undefined) this.keys.delete(old);
    this.ring[this.at] = key;
    this.at = (this.at + 1) % this.size;
    this.keys.add(key);
    return true;
  }
}

/**
 * A bounded set of recent 64-bit keys given as two 32-bit halves (the duplicate window's keys): an
 * open-addressing table with linear probing in two Int32Arrays, twice as large as the window, and
 * a ring of insertion order for evicting the oldest. No allocation per key. The low half is
 * stored with its top bit set, so an all-zero slot means empty.
 */
export class RecentPairs {
  readonly size: number;
  private readonly his: Int32Array;
  private readonly los: Int32Array;
  private readonly mask: number;
  private readonly ringHi: Int32Array;
  private readonly ringLo: Int32Array;
  private at = 0;

  constructor(size: number) {
    this.size = size;
    let cap = 16;
    while (cap < size * 2) cap *= 2;
    this.his = new Int32Array(cap);
    this.los = new Int32Array(cap);
    this.mask = cap - 1;
    this.ringHi = new Int32Array(size);
    this.ringLo = new Int32Array(size);
  }

  private slot(hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> 16) & this.mask;
  }

  /** The slot holding the (normalized) key, or the empty slot where it would go. */
  private probe(hi: number, lo: number): number {
    let i = this.slot(hi, lo);
    for (let l = this.los[i]!; l !== 0; l = this.los[i]!) {
      if (l === lo && this.his[i] === hi) return i;
      i = (i + 1) & this.mask;
    }
    return i;
  }

  /** Whether the key (hi, lo) is in the window. */
  has(hi: number, lo: number): boolean {
    return this.los[this.probe(hi | 0, lo | 0x80000000)] !== 0;
  }

  /** Adds the key (hi, lo); false when it was already there. */
  add(hi: number, lo: number): boolean {
    hi |= 0;
    lo |= 0x80000000;
    const i = this.probe(hi, lo);
    if (this.los[i] !== 0) return false;
    this.his[i] = hi;
    this.los[i] = lo;
    const oldLo = this.ringLo[this.at]!;
    if (oldLo !== 0) this.remove(this.ringHi[this.at]!, oldLo);
    this.ringHi[this.at] = hi;
    this.ringLo[this.at] = lo;
    this.at = (this.at + 1) % this.size;
    return true;
  }

  /** Deletes a key and shifts back the entries of its probe run that it displaced. */
  private remove(hi: number, lo: number): void {
    const his = this.his;
    const los = this.los;
    let i = this.slot(hi, lo);
    while (los[i] !== lo || his[i] !== hi) {
      if (los[i] === 0) return;
      i = (i + 1) & this.mask;
    }
    let j = i;
    for (;;) {
      los[i] = 0;
      his[i] = 0;
      for (;;) {
        j = (j + 1) & this.mask;
        if (los[j] === 0) return;
        const home = this.slot(his[j]!, los[j]!);
        // the entry at j may fill the hole at i unless its home lies cyclically in (i, j]
        const stays = i <= j ? home > i && home <= j : home > i || home <= j;
        if (!stays) break;
      }
      his[i] = his[j]!;
      los[i] = los[j]!;
      i = j;
    }
  }
}

/** A gap in one (topic, sender) stream: sequence numbers `from`..`to` never arrived. */
export interface Gap {
  readonly topic: string;
  readonly sender: string;
  readonly from: number;
  readonly to: number;
}

/** Late numbers a stream remembers delivering (so a second copy is stale). */
const LATE_KEPT = 4096;

/**
 * Puts one (topic, sender) stream back in `seq` order. The first message seen sets where the
 * stream starts (a subscriber may join late). A message ahead of the next expected one is held;
 * once `bound` are held, or the caller declares a timeout, the missing numbers are reported as a
 * gap and the held messages go out in order. A redelivered message behind the stream is stale
 * (or late, if it never went out here).
 *
 * A sender's restart shows in its stream epoch (`Envelope.ep`): a larger one starts the stream
 * anew; a message of a smaller one (an older stream's, redelivered after the restart) goes out at
 * once, marked late. Within one epoch a fresh message behind the stream is a copy (the duplicate
 * window no longer remembers it) and is stale. Envelopes without an epoch (0) keep the older rule:
 * a fresh message behind the stream means its sender restarted.
 */
export class Reorder<T> {
  private next = 0;
  /** The first seq seen: what came before it was never delivered here. */
  private first = 0;
  /** The stream epoch being ordered. */
  private ep = 0;
  private readonly held = new Map<number, T>();
  /** Ranges reported as gaps: their numbers were never delivered (bounded to the last 1,024). */
  private gaps: { from: number; to: number }[] = [];
  /**
   * Numbers from before `first` or from a gap that arrived late and were delivered then. Made on
   * first use: a subscriber keeps one buffer per (topic, sender) it ever heard, and most never
   * see a late message (the window's ring alone is 32 KB).
   */
  private late: RecentKeys<number> | undefined;
  readonly bound: number;

  constructor(bound: number) {
    this.bound = bound;
  }

  get holding(): number {
    return this.held.size;
  }

  /** True when `seq`, behind the stream, was never delivered here (so it is late, not stale). */
  private undelivered(seq: number): boolean {
    if (seq < this.first) return true;
    return this.gaps.some((g) => seq >= g.from && seq <= g.to);
  }

  /**
   * The common case, without allocating: `seq` is the next one of the current epoch and nothing
   * is held. Then it is taken (true) and may go out at once; otherwise nothing changes (false) and
   * the caller offers it.
   */
  takeNext(seq: number, ep = 0): boolean {
    if (seq !== this.next || ep !== this.ep || this.held.size !== 0) return false;
    this.next++;
    return true;
  }

  /**
   * Offers message `seq` of epoch `ep`; returns what may go out now, in order, and any gap, or
   * 'stale'. A message behind the stream that was never delivered here (from before the first one
   * seen, or from a gap) goes out at once, marked `late`: out of order, but not lost.
   */
  offer(
    seq: number,
    item: T,
    redelivered = false,
    ep = 0,
  ): { out: T[]; gap?: { from: number; to: number }; late?: boolean } | 'stale' {
    // the common case: the next one, nothing held
    if (this.takeNext(seq, ep)) return { out: [item] };
    if (this.next === 0) {
      this.next = seq;
      this.first = seq;
      this.ep = ep;
    }
    // an older stream of this sender's: what the duplicate window let through never came here
    if (ep < this.ep) return { out: [item], late: true };
    let before: T[] = [];
    if (ep > this.ep) before = this.restart(seq, ep);
    else {
      // behind the stream but never delivered here (from before the first one seen, or from a
      // gap given up on): late, not lost. A redelivery, or a fresh copy of a message that never
      // got here the first time (a command the relay refused for its rate, sent again by the
      // outbox)
      if (seq < this.next && this.undelivered(seq)) {
        this.late ??= new RecentKeys<number>(LATE_KEPT);
        if (!this.late.add(seq)) return 'stale';
        return { out: [item], late: true };
      }
      // without epochs, a fresh message (not a redelivery; the duplicate window has let it
      // through) behind the stream means its sender restarted and numbers from 1 again
      if (ep === 0 && !redelivered && seq < this.next) before = this.restart(seq, 0);
    }
    if (seq < this.next || this.held.has(seq)) return 'stale';
    this.held.set(seq, item);
    const out = before.length > 0 ? [...before, ...this.drain()] : this.drain();
    if (this.held.size <= this.bound) return { out };
    return this.skip(out);
  }

  /**
   * The sender restarted: the stream starts anew at `seq`, and the first numbers of its new stream
   * may never have reached this subscription. What the old one still held is returned to go out
   * first, in order: those messages were checked and taken, and a copy of one would now be a
   * duplicate, so holding them on would lose them.
   */
  private restart(seq: number, ep: number): T[] {
    const before = [...this.held.keys()].sort((a, b) => a - b).map((k) => this.held.get(k)!);
    this.held.clear();
    this.gaps = [];
    this.late = undefined;
    this.next = seq;
    this.first = seq;
    this.ep = ep;
    return before;
  }

  /** Gives up waiting: reports the missing numbers and releases what is held. */
  skip(out: T[] = []): { out: T[]; gap?: { from: number; to: number } } {
    if (this.held.size === 0) return { out };
    const lowest = Math.min(...this.held.keys());
    const gap = { from: this.next, to: lowest - 1 };
    this.gaps.push(gap);
    if (this.gaps.length > 1024) this.gaps.shift();
    this.next = lowest;
    out.push(...this.drain());
    return { out, gap };
  }

  private drain(): T[] {
    const out: T[] = [];
    for (let x = this.held.get(this.next); x !== undefined; x = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next++;
      out.push(x);
    }
    return out;
  }
}
