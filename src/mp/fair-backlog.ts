import { Ring } from '../util/ring.js';

/** Drained per-publisher queues kept for reuse, at most (beyond it a drained one is dropped). */
const IDLE_QUEUES_KEPT = 64;

/**
 * What a consumer group holds, queued by publisher and served round-robin, FIFO per publisher,
 * with what was taken back (unacknowledged when a member left) served first, in its order.
 *
 * One FIFO for everyone let a publisher that keeps its own rate limits but outpaces the consumer
 * (a flooding agent, within its command budget) stand its whole backlog in front of every other
 * publisher's next message: the kernel bridge picks fairly only among what it holds (1,024 a
 * kind), and on a slow machine an honest agent's command waited seconds behind the rest (`npm run
 * bench -- flood`). Served round-robin, it waits for at most one message of each other publisher.
 * Order is kept per publisher, which is all the plane promises (FIFO per topic and sender).
 *
 * Each publisher may hold up to `perKey` messages: a flooder waits for room without making
 * anyone else wait.
 */
export class FairBacklog<T> {
  private front = new Ring<T>();
  private readonly queues = new Map<string, Ring<T>>();
  /** Publishers with something queued, in the order they are served. */
  private ring: string[] = [];
  private turn = 0;
  private count = 0;
  readonly perKey: number;

  constructor(perKey: number) {
    this.perKey = perKey;
  }

  /** Messages held. */
  get length(): number {
    return this.count;
  }

  /** Whether `key`'s publisher holds as many as it may. */
  fullFor(key: string): boolean {
    return (this.queues.get(key)?.length ?? 0) >= this.perKey;
  }

  push(key: string, x: T): void {
    let q = this.queues.get(key);
    if (q === undefined) {
      q = new Ring<T>();
      this.queues.set(key, q);
    }
    if (q.length === 0) this.ring.push(key);
    q.push(x);
    this.count++;
  }

  /** Puts `xs` back in front of everything, in their order. */
  unshift(xs: readonly T[]): void {
    const front = new Ring<T>(xs.length + this.front.length);
    for (const x of xs) front.push(x);
    for (let x = this.front.shift(); x !== undefined; x = this.front.shift()) front.push(x);
    this.front = front;
    this.count += xs.length;
  }

  /** The next to hand out: what was taken back first, then round-robin by publisher. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    this.count--;
    if (this.front.length > 0) return this.front.shift();
    if (this.turn >= this.ring.length) this.turn = 0;
    const key = this.ring[this.turn]!;
    const q = this.queues.get(key)!;
    const x = q.shift()!;
    if (q.length === 0) {
      // its turn is over and it leaves the ring; the next publisher moves into this place. Its
      // queue is kept while few are idle: a Map that drops and re-adds a key per burst rehashes
      // its table, and V8 links each old table to the next (see Ring on why that costs)
      this.ring.splice(this.turn, 1);
      if (this.queues.size > IDLE_QUEUES_KEPT) this.queues.delete(key);
    } else this.turn++;
    return x;
  }
}
