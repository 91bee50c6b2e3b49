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
  private front: T[] = [];
  private frontAt = 0;
  private readonly queues = new Map<string, Fifo<T>>();
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
      q = new Fifo<T>();
      this.queues.set(key, q);
    }
    if (q.length === 0) this.ring.push(key);
    q.push(x);
    this.count++;
  }

  /** Puts `xs` back in front of everything, in their order. */
  unshift(xs: readonly T[]): void {
    this.front = [...xs, ...this.front.slice(this.frontAt)];
    this.frontAt = 0;
    this.count += xs.length;
  }

  /** The next to hand out: what was taken back first, then round-robin by publisher. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    this.count--;
    if (this.frontAt < this.front.length) {
      const x = this.front[this.frontAt]!;
      this.front[this.frontAt++] = undefined as never;
      if (this.frontAt === this.front.length) {
        this.front = [];
        this.frontAt = 0;
      }
      return x;
    }
    if (this.turn >= this.ring.length) this.turn = 0;
    const key = this.ring[this.turn]!;
    const q = this.queues.get(key)!;
    const x = q.shift();
    if (q.length === 0) {
      // its turn is over and it leaves the ring; the next publisher moves into this place
      this.ring.splice(this.turn, 1);
      this.queues.delete(key);
    } else this.turn++;
    return x;
  }
}

/** A queue with O(1) push and shift (an array and a head index, compacted now and then). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  shift(): T {
    const x = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}
