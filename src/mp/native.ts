import type { CborValue } from '../codec/index.js';
import { ConnectionError, RpcClient } from '../rpc/index.js';
import { PlaneClosedError } from './errors.js';
import { checkPattern, checkTopic } from './topic.js';
import type {
  Delivery,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportSubscription,
} from './transport.js';

export type NativeAddress =
  | { readonly path: string }
  | { readonly host: string; readonly port: number };

interface Queued {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * The `native` transport: publish/subscribe relayed by `jitd` over its own socket (Unix or
 * loopback TCP), so agents in other processes need nothing installed: the embedded default.
 * Publishes made in one tick travel in one request; deliveries arrive in batches; acks go back in
 * batches. If the connection drops, publishes fail and subscriptions end: make a new transport.
 */
export class NativeTransport implements Transport {
  readonly name = 'native';
  readonly gaps: readonly TransportGap[] = [
    {
      feature: 'survives-restart',
      reason:
        'jitd relays messages in memory: a restart loses what was in flight, and the outbox retries commands until the kernel answers (the truth is in the WAL)',
    },
  ];
  private readonly where: NativeAddress;
  private client: RpcClient | undefined;
  private starting: Promise<RpcClient> | undefined;
  private queue: Queued[] = [];
  private readonly subs = new Set<NativeSub>();
  private closed = false;

  constructor(where: NativeAddress) {
    this.where = where;
  }

  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.connected(opts.signal);
  }

  private connected(signal?: AbortSignal): Promise<RpcClient> {
    if (this.closed)
      return Promise.reject(new PlaneClosedError('this native connection is closed'));
    this.starting ??= RpcClient.connect(this.where, signal ? { signal } : {}).then((c) => {
      this.client = c;
      return c;
    });
    return this.starting;
  }

  publish(topic: string, data: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closed)
      return Promise.reject(new PlaneClosedError('this native connection is closed'));
    checkTopic(topic);
    opts.signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      if (this.queue.length === 0) process.nextTick(() => void this.flush());
      this.queue.push({ topic, data, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const c = await this.connected();
      await c.call('mp.publish', { msgs: batch.map((q) => [q.topic, q.data]) });
      for (const q of batch) q.resolve();
    } catch (e) {
      for (const q of batch) q.reject(e as Error);
    }
  }

  async subscribe(pattern: string, opts: SubscribeOptions = {}): Promise<TransportSubscription> {
    checkPattern(pattern);
    opts.signal?.throwIfAborted();
    const c = await this.connected(opts.signal);
    const s = new NativeSub(c, pattern, (x) => this.subs.delete(x));
    await s.open(opts);
    this.subs.add(s);
    opts.signal?.addEventListener('abort', () => void s.close(), { once: true });
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
    const c = this.client ?? (await this.starting?.catch(() => undefined));
    await c?.close();
  }
}

class NativeSub implements TransportSubscription {
  readonly pattern: string;
  private readonly client: RpcClient;
  private readonly onClose: (s: NativeSub) => void;
  private rid = -1;
  private ready: Delivery[] = [];
  private head = 0;
  private wake: ((r: IteratorResult<Delivery>) => void) | undefined;
  private acks: number[] = [];
  private ended = false;

  constructor(client: RpcClient, pattern: string, onClose: (s: NativeSub) => void) {
    this.client = client;
    this.pattern = pattern;
    this.onClose = onClose;
  }

  async open(opts: SubscribeOptions): Promise<void> {
    const { rid } = await this.client.stream(
      'mp.subscribe',
      {
        pattern: this.pattern,
        ...(opts.group !== undefined ? { group: opts.group } : {}),
        ...(opts.maxInFlight !== undefined ? { max_in_flight: opts.maxInFlight } : {}),
      },
      (v) => this.receive(v),
      () => this.end(),
    );
    this.rid = rid;
  }

  private receive(v: CborValue): void {
    const msgs = (v as { msgs?: unknown }).msgs;
    if (!Array.isArray(msgs)) return;
    for (const m of msgs as [number, string, Uint8Array, boolean][]) {
      const [n, topic, data, redelivered] = m;
      let acked = false;
      const d: Delivery = {
        topic,
        data,
        redelivered,
        ack: () => {
          if (acked || this.ended) return;
          acked = true;
          if (this.acks.length === 0) process.nextTick(() => this.sendAcks());
          this.acks.push(n);
        },
      };
      if (this.wake !== undefined) {
        const w = this.wake;
        this.wake = undefined;
        w({ value: d, done: false });
      } else this.ready.push(d);
    }
  }

  private sendAcks(): void {
    const ns = this.acks;
    this.acks = [];
    if (ns.length === 0 || this.client.isClosed) return;
    this.client.call('mp.ack', { sub: this.rid, ns }).catch(() => undefined);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake?.({ value: undefined, done: true });
    this.wake = undefined;
    this.onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery> {
    return {
      next: () => {
        if (this.head < this.ready.length) {
          const d = this.ready[this.head]!;
          this.ready[this.head++] = undefined as never;
          if (this.head === this.ready.length) {
            this.ready = [];
            this.head = 0;
          }
          return Promise.resolve({ value: d, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => {
          this.wake = r;
        });
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.sendAcks();
    this.client.endStream(this.rid);
    this.end();
    this.ready = [];
    this.head = 0;
    if (!this.client.isClosed)
      await this.client.call('mp.unsubscribe', { sub: this.rid }).catch((e: unknown) => {
        if (!(e instanceof ConnectionError)) throw e;
      });
  }
}
