import type { CborValue } from '../codec/index.js';
import type { Signer } from '../identity/index.js';
import { ConnectionError, RpcClient } from '../rpc/index.js';
import { QueuedSubscription } from './delivery-queue.js';
import { PlaneClosedError } from './errors.js';
import { checkPattern, checkTopic } from './topic.js';
import type {
  Delivery,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportHealth,
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
 * batches. When the connection drops (jitd restarts), it reconnects with backoff and subscribes
 * again; publishes made meanwhile fail with ConnectionError (the outbox retries commands), and
 * deliveries not acknowledged before the drop are not acknowledged after it.
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
  private readonly login: Signer | undefined;
  private client: RpcClient | undefined;
  private starting: Promise<RpcClient> | undefined;
  private queue: Queued[] = [];
  private readonly subs = new Set<NativeSub>();
  private closed = false;
  /** Connections made so far (1 after start; more after reconnects). */
  connections = 0;

  /**
   * `login`: the agent this connection acts as (jitd checks every publish and subscribe against
   * its ACL for that agent); it logs in again on every reconnect.
   */
  constructor(where: NativeAddress, opts: { login?: Signer } = {}) {
    this.where = where;
    this.login = opts.login;
  }

  async start(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.connected(opts.signal);
  }

  async health(): Promise<TransportHealth> {
    const up = this.client !== undefined && !this.client.isClosed && !this.closed;
    const where = 'path' in this.where ? this.where.path : `${this.where.host}:${this.where.port}`;
    return { connected: up, detail: `jitd relay at ${where}${up ? '' : ' (reconnecting)'}` };
  }

  /** The live connection, or the one being made (reconnecting with backoff after a drop). */
  connected(signal?: AbortSignal): Promise<RpcClient> {
    if (this.closed)
      return Promise.reject(new PlaneClosedError('this native connection is closed'));
    if (this.starting !== undefined) return this.starting;
    const first = this.connections === 0;
    this.starting = (async () => {
      let delay = 25;
      for (;;) {
        try {
          const c = await RpcClient.connect(this.where, {
            ...(signal ? { signal } : {}),
            ...(this.login ? { login: this.login } : {}),
          });
          if (this.closed) {
            await c.close();
            throw new PlaneClosedError('this native connection is closed');
          }
          this.client = c;
          this.connections++;
          c.onClose(() => this.lost(c));
          for (const s of this.subs) await s.attach(c).catch(() => undefined);
          return c;
        } catch (e) {
          // the first connection fails fast (jitd not running); a reconnect keeps trying
          if (first || this.closed || !(e instanceof ConnectionError)) {
            this.starting = undefined;
            throw e;
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
        }
      }
    })();
    return this.starting;
  }

  private lost(c: RpcClient): void {
    if (this.client !== c) return;
    this.client = undefined;
    this.starting = undefined;
    if (!this.closed) void this.connected().catch(() => undefined);
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
      const c = this.client;
      if (c === undefined) throw new ConnectionError('not connected to jitd (reconnecting)');
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
    const s = new NativeSub(pattern, opts, (x) => this.subs.delete(x));
    await s.attach(c);
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

class NativeSub extends QueuedSubscription {
  readonly pattern: string;
  private readonly opts: SubscribeOptions;
  private readonly onClose: (s: NativeSub) => void;
  private client: RpcClient | undefined;
  private rid = -1;
  /** Bumped on every (re)subscription: acks of an older one are not sent to the new one. */
  private generation = 0;
  private acks: number[] = [];

  constructor(pattern: string, opts: SubscribeOptions, onClose: (s: NativeSub) => void) {
    super();
    this.pattern = pattern;
    this.opts = opts;
    this.onClose = onClose;
  }

  /** Subscribes on connection `c` (again, after a reconnect). */
  async attach(c: RpcClient): Promise<void> {
    if (this.ended) return;
    const generation = ++this.generation;
    this.client = c;
    this.acks = [];
    const { rid } = await c.stream(
      'mp.subscribe',
      {
        pattern: this.pattern,
        ...(this.opts.group !== undefined ? { group: this.opts.group } : {}),
        ...(this.opts.maxInFlight !== undefined ? { max_in_flight: this.opts.maxInFlight } : {}),
      },
      (v) => this.receive(v, generation),
      () => undefined,
    );
    this.rid = rid;
  }

  private receive(v: CborValue, generation: number): void {
    const msgs = (v as { msgs?: unknown }).msgs;
    if (!Array.isArray(msgs)) return;
    for (const m of msgs as [number, string, Uint8Array, boolean, number | null | undefined][]) {
      const [n, topic, data, redelivered, deliveries] = m;
      let acked = false;
      const d: Delivery = {
        topic,
        data,
        redelivered,
        ...(typeof deliveries === 'number' ? { deliveries } : {}),
        ack: () => {
          if (acked || this.ended || generation !== this.generation) return;
          acked = true;
          if (this.acks.length === 0) process.nextTick(() => this.sendAcks());
          this.acks.push(n);
        },
      };
      this.queue.push(d);
    }
  }

  private sendAcks(): void {
    const ns = this.acks;
    this.acks = [];
    const c = this.client;
    if (ns.length === 0 || c === undefined || c.isClosed) return;
    c.call('mp.ack', { sub: this.rid, ns }).catch(() => undefined);
  }

  protected async release(): Promise<void> {
    this.sendAcks(); // what was acknowledged before the close still goes out
    this.onClose(this);
    const c = this.client;
    if (c === undefined || c.isClosed) return;
    c.endStream(this.rid);
    await c.call('mp.unsubscribe', { sub: this.rid }).catch((e: unknown) => {
      if (!(e instanceof ConnectionError)) throw e;
    });
  }
}
