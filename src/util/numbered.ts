/** Numbers wrap here, staying small integers; far more than can ever be held at once. */
const WRAP = 2 ** 30;

/**
 * Values filed under the numbers it hands out (1, 2, 3 …), for things taken back mostly in the
 * order they were given, such as deliveries awaiting their acknowledgement.
 *
 * A `Map` that adds and deletes a key per message rehashes its table every so often, and V8 links
 * each old table (entries and all) to its successor for the sake of live iterators: once one table
 * is promoted to the old generation, every later one is kept alive through it until the next full
 * collection, with what it holds (see `Ring` on what that costs). Here each number has a slot in a
 * circular array; a value still held when its slot comes round again (one taken back very late)
 * moves to a side map, or the array doubles when it is more than half full.
 */
export class Numbered<T> {
  private nums: number[];
  private vals: (T | undefined)[];
  private mask: number;
  private readonly late = new Map<number, T>();
  private last = 0;
  private count = 0;

  /** `capacity` is rounded up to a power of two (at least 8). */
  constructor(capacity = 16) {
    let n = 8;
    while (n < capacity) n *= 2;
    this.nums = new Array<number>(n).fill(0);
    this.vals = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  /** How many values are held. */
  get size(): number {
    return this.count;
  }

  /** Files `v` under the next number, which it returns. */
  add(v: T): number {
    const n = this.last + 1 < WRAP ? this.last + 1 : 1;
    this.last = n;
    let i = n & this.mask;
    if (this.vals[i] !== undefined) {
      if (this.count - this.late.size >= this.vals.length / 2) this.grow();
      i = n & this.mask;
      const held = this.vals[i];
      if (held !== undefined) this.late.set(this.nums[i]!, held);
    }
    this.nums[i] = n;
    this.vals[i] = v;
    this.count++;
    return n;
  }

  /** The value filed under `n`, taken out; undefined when there is none. */
  take(n: number): T | undefined {
    const i = n & this.mask;
    const v = this.vals[i];
    if (v !== undefined && this.nums[i] === n) {
      this.vals[i] = undefined;
      this.count--;
      return v;
    }
    const l = this.late.get(n);
    if (l !== undefined) {
      this.late.delete(n);
      this.count--;
    }
    return l;
  }

  /** Takes out every value, oldest number first (wrapping aside). */
  takeAll(): T[] {
    const held: [number, T][] = [...this.late];
    for (let i = 0; i < this.vals.length; i++) {
      const v = this.vals[i];
      if (v !== undefined) held.push([this.nums[i]!, v]);
    }
    held.sort((a, b) => a[0] - b[0]);
    this.vals.fill(undefined);
    this.late.clear();
    this.count = 0;
    return held.map(([, v]) => v);
  }

  private grow(): void {
    const nums = this.nums;
    const vals = this.vals;
    const n = vals.length * 2;
    this.nums = new Array<number>(n).fill(0);
    this.vals = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
    // numbers that did not share a slot in the smaller array do not share one in this
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v === undefined) continue;
      const j = nums[i]! & this.mask;
      this.nums[j] = nums[i]!;
      this.vals[j] = v;
    }
    vals.fill(undefined);
  }
}
