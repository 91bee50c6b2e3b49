import { randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';
import { QueuedSubscription } from '../../delivery-queue.js';
import { PlaneClosedError } from '../../errors.js';
import { checkPattern, checkTopic, patternMatcher } from '../../topic.js';
import type {
  Delivery,
  PublishOptions,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportHealth,
  TransportSubscription,
} from '../../transport.js';
import { loadRedis, type RedisLib } from './load.js';

const debug = debuglog('jit:redis');

type Client = ReturnType<typeof newClient>;

export interface RedisOptions {
  /** `redis://[user:pass@]host:6379[/db]` (credentials go to the client, never to logs). */
  readonly url: string;
  /** The stream key that holds the plane's messages. */
  readonly stream?: string;
  /** How long a delivery may stay unacknowledged before another member claims it. */
  readonly ackWaitMs?: number;
  /** How long one blocking read waits before looking again. */
  readonly blockMs?: number;
  /** How often this connection trims the stream (0: never). */
  readonly trimEveryMs?: number;
}

/**
 * A connection without node-redis's per-command timeout: it gives every command a 5-second timer
 * (`AbortSignal.timeout`), which at 1,000 messages/s kept thousands alive, promoted them to the
 * old generation and cost 10-15 ms mark-compact pauses: the plane's p99 went from 2 to 12 ms.
 * A reader (`silentMs` set) hears from the server at least once per blocking read, so one that
 * hears nothing for `silentMs` is dropped and reconnects (a server that hangs). A publishing
 * connection has no such check: a publish to a server that hangs with its socket open waits
 * until TCP gives up (TRANSPORTS.md).
 */
function newClient(lib: RedisLib, url: string, silentMs?: number) {
  const c = lib.createClient({
    url,
    commandOptions: { timeout: 0 },
    ...(silentMs === undefined ? {} : { socket: { socketTimeout: silentMs } }),
  });
  c.on('error', (e: Error) => debug('redis client error: %s', e.message));
  return c;
}

/**
 * The Redis Streams transport. Every message of the plane goes into one stream (default key
 * `jit:plane`) as `{t: topic, d: envelope bytes}`; Redis has no subject wildcards, so a
 * subscription is a consumer group that reads the whole stream and acknowledges at once what its
 * pattern does not match. A group named by the subscriber is durable; without a name the group is
 * the subscription's own and is destroyed when it closes. Deliveries a member did not acknowledge
 * stay in the group's pending list and are claimed by a member (XAUTOCLAIM) once idle for
 * `ackWaitMs`; while a member that stopped reading still holds some, the others take nothing new,
 * so the stream's order is kept across the handover. Each subscription reads on its own
 * connection (reads block).
 */
export class RedisTransport implements Transport {
  readonly name = 'redis';
  readonly gaps: readonly TransportGap[] = [
    {
      feature: 'publisher-backpressure',
      reason:
        'the stream stores what a slow consumer has not taken, so publishers are not slowed; the consumer side holds at most its window',
    },
    {
      feature: 'survives-restart',
      reason:
        'depends on the server\'s persistence: the local redis-server runs with --save "" --appendonly no, so a restart empties it (with appendonly yes and appendfsync always, streams and groups survive)',
    },
  ];
  readonly opts: Required<RedisOptions>;
  private client: Client | undefined;
  private starting: Promise<Client> | undefined;
  private readonly subs = new Set<RedisSub>();
  private trimmer: NodeJS.Timeout | undefined;
  /** Publishes of this tick, sent together by `flush`. */
  private batch: PendingPublish[] = [];
  private closed = false;

  constructor(o: RedisOptions) {
    this.opts = {
      url: o.url,
      stream: o.stream ?? 'jit:plane',
      ackWaitMs: o.ackWaitMs ?? 30_000,
      blockMs: o.blockMs ?? 1000,
      trimEveryMs: o.trimEveryMs ?? 10_000,
    };
  }

  /** Connects the publishing connection (idempotent). */
  async start(): Promise<void> {
    await this.connected();
  }

  connected(): Promise<Client> {
    if (this.closed) return Promise.reject(new PlaneClosedError('this Redis connection is closed'));
    this.starting ??= (async () => {
      const c = newClient(await loadRedis(), this.opts.url);
      await c.connect();
      this.client = c;
      if (this.opts.trimEveryMs > 0) {
        this.trimmer = setInterval(() => {
          this.trim().catch((e: unknown) => debug('trim failed: %o', e));
        }, this.opts.trimEveryMs);
        this.trimmer.unref();
      }
      return c;
    })();
    return this.starting;
  }

  /**
   * Trims the stream below the oldest entry any group may still need: for each group, its oldest
   * pending entry, else the last one it has read. With no group at all, nothing is needed. Never
   * drops a pending or unread entry (Redis 7.0 has no ACKED trimming, so this computes it).
   * Returns how many entries went.
   */
  async trim(): Promise<number> {
    const c = await this.connected();
    const key = this.opts.stream;
    const groups = (await c.xInfoGroups(key).catch(() => [])) as unknown as {
      name: string;
      pending: number;
      'last-delivered-id': string;
    }[];
    const cmp = (a: string, b: string): number => {
      const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
      const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
      return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
    };
    let keep: string | undefined;
    for (const g of groups) {
      let need = g['last-delivered-id'];
      if (g.pending > 0) {
        const p = (await c.xPending(key, g.name)) as unknown as { firstId: string | null };
        if (p.firstId !== null && cmp(p.firstId, need) < 0) need = p.firstId;
      }
      if (keep === undefined || cmp(need, keep) < 0) keep = need;
    }
    if (keep === undefined) return c.xTrim(key, 'MAXLEN', 0);
    return c.xTrim(key, 'MINID', keep);
  }

  async health(): Promise<TransportHealth> {
    const c = this.client;
    if (this.closed || c === undefined || !c.isReady)
      return { connected: false, detail: 'not connected' };
    try {
      const t0 = performance.now();
      await c.ping();
      const rtt = performance.now() - t0;
      const key = this.opts.stream;
      const len = await c.xLen(key);
      const groups = ((await c.xInfoGroups(key).catch(() => [])) as unknown[]).length;
      return {
        connected: true,
        detail: `stream ${key}: ${len} entries, ${groups} groups; rtt ${rtt.toFixed(1)} ms`,
      };
    } catch (e) {
      return { connected: false, detail: `no answer: ${(e as Error).message}` };
    }
  }

  publish(topic: string, data: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    // not async: this runs for every message, and a connected publish needs no promise but its own
    if (this.closed) return Promise.reject(new PlaneClosedError('this Redis connection is closed'));
    try {
      checkTopic(topic);
      opts.signal?.throwIfAborted();
    } catch (e) {
      return Promise.reject(e);
    }
    const c = this.client;
    if (c === undefined) return this.connected().then((x) => this.queued(x, topic, data));
    return this.queued(c, topic, data);
  }

  /** Queues a publish for this tick's `flush`. */
  private queued(c: Client, topic: string, data: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.batch.length === 0) process.nextTick(() => this.flush(c));
      this.batch.push({ topic, data, resolve, reject });
    });
  }

  /**
   * Sends the publishes of this tick, in call order: one XADD alone, more as one pipeline (the
   * client handles a pipeline's commands as one batch, where each command on its own would cost a
   * timeout signal, a trace and a promise of the client's). Each XADD goes as its arguments
   * (`addCommand`), which skips the client's parsing of a fields object.
   */
  private flush(c: Client): void {
    const b = this.batch;
    this.batch = [];
    const key = this.opts.stream;
    const args = (p: PendingPublish) => [
      'XADD',
      key,
      '*',
      't',
      p.topic,
      'd',
      Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength),
    ];
    if (b.length === 1) {
      const p = b[0]!;
      c.sendCommand(args(p)).then(() => p.resolve(), p.reject);
      return;
    }
    const m = c.multi();
    for (const p of b) m.addCommand(args(p));
    m.execAsPipeline().then(
      () => {
        for (const p of b) p.resolve();
      },
      (e: unknown) => {
        for (const p of b) p.reject(e);
      },
    );
  }

  async subscribe(pattern: string, opts: SubscribeOptions = {}): Promise<TransportSubscription> {
    if (this.closed) throw new PlaneClosedError('this Redis connection is closed');
    checkPattern(pattern);
    opts.signal?.throwIfAborted();
    const c = await this.connected();
    const durable = opts.group !== undefined;
    const group = durable ? `g:${opts.group}` : `e:${randomBytes(8).toString('hex')}`;
    try {
      await c.xGroupCreate(this.opts.stream, group, '$', { MKSTREAM: true });
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    const reader = newClient(
      await loadRedis(),
      this.opts.url,
      Math.max(10_000, 3 * this.opts.blockMs),
    );
    await reader.connect();
    const s = new RedisSub(this, c, reader, pattern, group, durable, opts.maxInFlight ?? 256, (x) =>
      this.subs.delete(x),
    );
    this.subs.add(s);
    s.run();
    opts.signal?.addEventListener('abort', () => void s.close(), { once: true });
    return s;
  }

  /** How many entries the plane's stream holds now. */
  async length(): Promise<number> {
    const c = await this.connected();
    return c.xLen(this.opts.stream);
  }

  /** Deletes the plane's stream with every group in it (tests, operators). */
  async deleteStream(): Promise<void> {
    const c = await this.connected();
    await c.del(this.opts.stream);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trimmer !== undefined) clearInterval(this.trimmer);
    await Promise.all([...this.subs].map((s) => s.close()));
    const c = this.client ?? (await this.starting?.catch(() => undefined));
    await c?.quit().catch(() => undefined);
  }
}

interface PendingPublish {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

type Entry = { id: Buffer; message: { t: Buffer; d: Buffer } };

class RedisSub extends QueuedSubscription {
  readonly pattern: string;
  private readonly t: RedisTransport;
  private readonly client: Client;
  private readonly reader: Client;
  private readonly group: string;
  private readonly durable: boolean;
  private readonly window: number;
  private readonly matches: (topic: string) => boolean;
  private readonly consumer = `c:${randomBytes(8).toString('hex')}`;
  private readonly onClose: (s: RedisSub) => void;
  private inflight = 0;
  private acks: string[] = [];
  /** Ids handed out and not yet acknowledged. */
  private readonly unacked = new Set<string>();
  private room: (() => void) | undefined;
  private lastClaim = 0;
  private lastCheck = 0;
  /** Another member holds entries that come first: claim them before reading anything new. */
  private handover = false;
  private readonly joined = Date.now();

  constructor(
    t: RedisTransport,
    client: Client,
    reader: Client,
    pattern: string,
    group: string,
    durable: boolean,
    window: number,
    onClose: (s: RedisSub) => void,
  ) {
    super();
    this.t = t;
    this.client = client;
    this.reader = reader;
    this.pattern = pattern;
    this.group = group;
    this.durable = durable;
    this.window = window;
    this.matches = patternMatcher(pattern);
    this.onClose = onClose;
  }

  /**
   * Reads until closed. A failed read (the server went away, or came back empty: NOGROUP) is
   * retried with backoff; a group that no longer exists is created again from the start of
   * what the stream holds, so nothing published after the restart is missed.
   */
  run(): void {
    void (async () => {
      let backoff = 50;
      while (!this.ended) {
        try {
          await this.loop();
        } catch (e) {
          if (this.ended) break;
          const msg = String((e as Error).message);
          debug('read on %s failed (retrying in %d ms): %s', this.group, backoff, msg);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 1000);
          if (msg.includes('NOGROUP'))
            await this.client
              .xGroupCreate(this.t.opts.stream, this.group, '0', { MKSTREAM: true })
              .then(() => {
                backoff = 50;
              })
              .catch((x: unknown) => debug('recreating group %s: %o', this.group, x));
        }
      }
    })();
  }

  private async loop(): Promise<void> {
    const key = this.t.opts.stream;
    const { RESP_TYPES } = await loadRedis();
    const bin = this.reader.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    while (!this.ended) {
      if (this.inflight >= this.window) {
        await new Promise<void>((r) => {
          this.room = r;
        });
        // let the acknowledgements of this turn come in first: the next read then takes a
        // larger share of the window instead of one entry per ack
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const want = this.window - this.inflight;
      const now = Date.now();
      // while a member that went quiet still holds unacknowledged entries, take nothing new:
      // those come first once claimable, so the order of the stream is kept across the handover
      if (this.handover || now - this.lastCheck >= this.t.opts.blockMs) {
        this.lastCheck = now;
        this.handover = await this.othersHold(now);
      }
      if (this.handover || now - this.lastClaim >= this.t.opts.ackWaitMs / 2) {
        // what members that went away left unacknowledged, once idle long enough
        this.lastClaim = now;
        const claimed = (await bin.xAutoClaim(
          key,
          this.group,
          this.consumer,
          this.t.opts.ackWaitMs,
          '0-0',
          { COUNT: want },
        )) as unknown as { messages: (Entry | null)[] };
        const got = claimed.messages.filter((m): m is Entry => m !== null);
        if (got.length > 0) {
          this.hand(got, await this.deliveryCounts(got));
          continue;
        }
        if (this.handover) {
          await new Promise((r) => setTimeout(r, Math.min(this.t.opts.blockMs, 100)));
          continue;
        }
      }
      const r = (await bin.xReadGroup(
        this.group,
        this.consumer,
        { key, id: '>' },
        { COUNT: want, BLOCK: this.t.opts.blockMs },
      )) as unknown as { messages: Entry[] }[] | null;
      if (r === null || this.ended) continue;
      for (const s of r) this.hand(s.messages, undefined);
    }
  }

  /** The delivery counters of entries this member just claimed (XPENDING over their range). */
  private async deliveryCounts(got: Entry[]): Promise<Map<string, number>> {
    const ids = got.map((e) => e.id.toString());
    const counts = new Map<string, number>();
    try {
      const rows = await this.client.xPendingRange(
        this.t.opts.stream,
        this.group,
        ids[0]!,
        ids.at(-1)!,
        ids.length,
        { consumer: this.consumer },
      );
      for (const r of rows) counts.set(r.id, r.deliveriesCounter);
    } catch (e) {
      debug('delivery counts on %s: %o', this.group, e);
    }
    // what XPENDING did not answer for was claimed, so delivered at least twice
    for (const id of ids) if (!counts.has(id)) counts.set(id, 2);
    return counts;
  }

  /**
   * Acknowledges `id`, with every other ack of this turn of the event loop in one XACK (sent from
   * `setImmediate`, so the deliveries handled in one turn share it).
   */
  private ack(id: string): void {
    if (this.acks.length === 0) setImmediate(() => void this.flushAcks());
    this.acks.push(id);
  }

  /** Sends the acks gathered so far (none: nothing). */
  private async flushAcks(): Promise<void> {
    const ids = this.acks;
    if (ids.length === 0) return;
    this.acks = [];
    await this.client.xAck(this.t.opts.stream, this.group, ids).catch(() => undefined);
  }

  /**
   * Must this member wait for entries another one holds? Yes while another member holds
   * unacknowledged entries and has not read for 3 read timeouts (a live member reads at least
   * once per timeout, so it went away), and, for a member that joined less than that long ago,
   * while another holds any (it cannot tell yet whether that one is alive: one killed a moment
   * ago looks live). Members long gone with nothing pending are removed from the group.
   */
  private async othersHold(now: number): Promise<boolean> {
    const { stream, blockMs, ackWaitMs } = this.t.opts;
    const cs = (await this.client.xInfoConsumers(stream, this.group)) as unknown as {
      name: string;
      pending: number;
      idle: number;
    }[];
    const young = now - this.joined < 3 * blockMs;
    let hold = false;
    for (const c of cs) {
      if (c.name === this.consumer) continue;
      if (c.pending > 0 && (young || c.idle >= 3 * blockMs)) hold = true;
      if (c.pending === 0 && c.idle > 10 * Math.max(ackWaitMs, blockMs))
        await this.client.xGroupDelConsumer(stream, this.group, c.name).catch(() => undefined);
    }
    return hold;
  }

  /** Queues entries read (`claimed` undefined) or claimed (with their delivery counters). */
  private hand(entries: Entry[], claimed: Map<string, number> | undefined): void {
    for (const e of entries) {
      const id = e.id.toString();
      const topic = e.message.t.toString();
      if (!this.matches(topic)) {
        // not this subscription's: done with it at once
        this.ack(id);
        continue;
      }
      this.inflight++;
      this.unacked.add(id);
      let acked = false;
      const d: Delivery = {
        topic,
        data: new Uint8Array(e.message.d.buffer, e.message.d.byteOffset, e.message.d.byteLength),
        redelivered: claimed !== undefined,
        deliveries: claimed?.get(id) ?? 1,
        ack: () => {
          if (acked || this.ended) return;
          acked = true;
          this.inflight--;
          this.unacked.delete(id);
          this.room?.();
          this.room = undefined;
          this.ack(id);
        },
      };
      this.queue.push(d);
    }
  }

  protected async release(): Promise<void> {
    this.room?.();
    this.onClose(this);
    // what was handled is acknowledged before the connection goes
    await this.flushAcks();
    // hand back what was taken and not acknowledged: marked idle for the full ack wait, so the
    // next member claims it at once, before anything newer (a member that crashes cannot do
    // this: its entries wait out the ack wait)
    if (this.durable && this.unacked.size > 0)
      await this.client
        .xClaimJustId(this.t.opts.stream, this.group, this.consumer, 0, [...this.unacked], {
          IDLE: this.t.opts.ackWaitMs,
        })
        .catch((e: unknown) => debug('handing back on %s: %o', this.group, e));
    this.unacked.clear();
    // a blocked read ends with its connection
    this.reader.destroy();
    if (!this.durable)
      await this.client.xGroupDestroy(this.t.opts.stream, this.group).catch(() => undefined);
  }
}
