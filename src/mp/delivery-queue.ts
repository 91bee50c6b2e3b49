import { Ring } from '../util/ring.js';
import type { Delivery, TransportSubscription } from './transport.js';

/**
 * The deliveries a transport subscription holds for its one reader, in order: taken without
 * waiting (`poll`) or awaited (`next`). Bounded by the transport, which hands out no more than its
 * in-flight limit. `end` drops what is held and finishes the reader.
 */
export class DeliveryQueue {
  private readonly items = new Ring<Delivery>();
  private wake: ((r: IteratorResult<Delivery>) => void) | undefined;
  private ended = false;

  push(d: Delivery): void {
    if (this.ended) return;
    if (this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      w({ value: d, done: false });
    } else this.items.push(d);
  }

  poll(): Delivery | undefined {
    return this.items.shift();
  }

  next(): Promise<IteratorResult<Delivery>> {
    const d = this.poll();
    if (d !== undefined) return Promise.resolve({ value: d, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((r) => {
      this.wake = r;
    });
  }

  end(): void {
    this.ended = true;
    this.items.clear();
    this.wake?.({ value: undefined, done: true });
    this.wake = undefined;
  }
}

/**
 * What every transport subscription shares: a DeliveryQueue read by `poll` and the async
 * iterator, and an idempotent `close` that ends the reader and then lets the transport release
 * what it holds (`release`).
 */
export abstract class QueuedSubscription implements TransportSubscription {
  abstract readonly pattern: string;
  protected readonly queue = new DeliveryQueue();
  protected ended = false;

  poll(): Delivery | undefined {
    return this.queue.poll();
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery> {
    return {
      next: () => this.queue.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.queue.end();
    await this.release();
  }

  /** Gives back what the subscription holds (its connection, its group membership…). */
  protected abstract release(): Promise<void>;
}
