/** A bounded set of recent keys: the oldest falls out once `size` is reached. */
export class RecentKeys {
  private readonly keys = new Set<string>();
  // insertion order as a ring, so evicting the oldest is O(1) (a Set's first entry is not, once
  // many have been deleted before it)
  private readonly ring: (string | undefined)[];
  private at = 0;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
    this.ring = new Array(size);
  }

  /** Adds `key`; false when it was already there. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    const old = this.ring[this.at];
    if (old !== undefined) this.keys.delete(old);
    this.ring[this.at] = key;
    this.at = (this.at + 1) % this.size;
    this.keys.add(key);
    return true;
  }
}

/** A gap in one (topic, sender) stream: sequence numbers `from`..`to` never arrived. */
export interface Gap {
  readonly topic: string;
  readonly sender: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Puts one (topic, sender) stream back in `seq` order. The first message seen sets where the
 * stream starts (a subscriber may join late). A message ahead of the next expected one is held;
 * once `bound` are held, or the caller declares a timeout, the missing numbers are reported as a
 * gap and the held messages go out in order. A message behind the stream is stale, except seq 1,
 * which starts the stream again (the sender restarted).
 */
export class Reorder<T> {
  private next = 0;
  private readonly held = new Map<number, T>();
  readonly bound: number;

  constructor(bound: number) {
    this.bound = bound;
  }

  get holding(): number {
    return this.held.size;
  }

  /** Offers message `seq`; returns what may go out now, in order, and any gap, or 'stale'. */
  offer(seq: number, item: T): { out: T[]; gap?: { from: number; to: number } } | 'stale' {
    if (this.next === 0) this.next = seq;
    // seq 1 again: the sender restarted and its stream begins anew (a replay of an old first
    // message is caught by the duplicate window before it gets here)
    if (seq === 1 && this.next > 1) {
      this.held.clear();
      this.next = 1;
    }
    if (seq < this.next || this.held.has(seq)) return 'stale';
    this.held.set(seq, item);
    const out = this.drain();
    if (this.held.size <= this.bound) return { out };
    return this.skip(out);
  }

  /** Gives up waiting: reports the missing numbers and releases what is held. */
  skip(out: T[] = []): { out: T[]; gap?: { from: number; to: number } } {
    if (this.held.size === 0) return { out };
    const lowest = Math.min(...this.held.keys());
    const gap = { from: this.next, to: lowest - 1 };
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
