/**
 * Runs jobs at most `limit` at a time, taking the next one round-robin by key (the sender): FIFO
 * per key, fair across keys, so one key's backlog never stands in front of another's job.
 */
export class FairQueue {
  private readonly queues = new Map<string, (() => void)[]>();
  /** Keys with jobs waiting, in the order they get their next turn. */
  private readonly turns: string[] = [];
  private running = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Jobs waiting for a turn (not yet started). */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.pump();
          });
      };
      let q = this.queues.get(key);
      if (q === undefined) {
        q = [];
        this.queues.set(key, q);
        this.turns.push(key);
      }
      q.push(start);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.limit && this.turns.length > 0) {
      const key = this.turns.shift()!;
      const q = this.queues.get(key)!;
      const start = q.shift()!;
      if (q.length > 0) this.turns.push(key);
      else this.queues.delete(key);
      start();
    }
  }
}
