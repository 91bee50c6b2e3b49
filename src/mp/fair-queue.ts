/**
 * Items queued by key and taken round-robin across keys, FIFO per key: one key's backlog never
 * stands in front of another key's next item.
 */
export class RoundRobin<T> {
  private readonly queues = new Map<string, T[]>();
  /** Keys with items waiting, in the order they get their next turn. */
  private readonly turns: string[] = [];

  /** Items waiting. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  push(key: string, item: T): void {
    let q = this.queues.get(key);
    if (q === undefined) {
      q = [];
      this.queues.set(key, q);
      this.turns.push(key);
    }
    q.push(item);
  }

  /** The next item in turn, or undefined when none waits. */
  shift(): T | undefined {
    const key = this.turns.shift();
    if (key === undefined) return undefined;
    const q = this.queues.get(key)!;
    const item = q.shift()!;
    if (q.length > 0) this.turns.push(key);
    else this.queues.delete(key);
    return item;
  }
}

/**
 * Runs jobs at most `limit` at a time, taking the next one round-robin by key (the sender): FIFO
 * per key, fair across keys, so one key's backlog never stands in front of another's job.
 */
export class FairQueue {
  private readonly queued = new RoundRobin<() => void>();
  private running = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Jobs waiting for a turn (not yet started). */
  get waiting(): number {
    return this.queued.size;
  }

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push(key, () => {
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.pump();
          });
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.limit) {
      const start = this.queued.shift();
      if (start === undefined) return;
      start();
    }
  }
}
