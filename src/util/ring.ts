/**
 * A FIFO queue on a circular array: O(1) push and shift, and no stale references.
 *
 * Why not an array with a head index, or `push` and `shift`: a queue that lives long is promoted to
 * V8's old generation, and so is the array that backs it. When such an array grows (a new backing
 * store, the old one left as garbage) or is compacted with `slice`, the old store keeps pointing at
 * every item it held until the next full collection. Young items pointed at from old garbage
 * survive every scavenge until then and are promoted in turn: the plane's queues of messages did
 * that, and a long-lived plane ran about 3x slower than a fresh one, a third of its time in
 * scavenges that promoted 2 MB each (`docs/PERFORMANCE.md`, "An old plane is a slow plane").
 * Here a slot is cleared when its item is taken, and a store that is outgrown is cleared before it
 * is dropped.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private mask: number;
  private head = 0;
  private count = 0;

  /** `capacity` is rounded up to a power of two (at least 8); the ring grows when it is full. */
  constructor(capacity = 16) {
    let n = 8;
    while (n < capacity) n *= 2;
    this.items = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  get length(): number {
    return this.count;
  }

  push(x: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = x;
    this.count++;
  }

  /** The oldest item, taken out; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const x = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return x;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Empties the ring (its store is kept, cleared). */
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const old = this.items;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2).fill(undefined);
    for (let i = 0; i < n; i++) next[i] = old[(this.head + i) & this.mask];
    old.fill(undefined);
    this.items = next;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
