import { randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';
import type {
  Consumer,
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { QueuedSubscription } from '../../delivery-queue.js';
import { messageIdHex } from '../../envelope.js';
import { PlaneClosedError } from '../../errors.js';
import { checkPattern, checkTopic } from '../../topic.js';
import type {
  PublishOptions,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportHealth,
  TransportSubscription,
} from '../../transport.js';
import { loadNats, type NatsLib } from './load.js';

const debug = debuglog('jit:nats');

export interface NatsOptions {
  /** `nats://host:port` (credentials in the URL are passed to the client, never logged). */
  readonly url: string;
  /** The JetStream stream that holds the plane's messages (created if missing). */
  readonly stream?: string;
  /** Plane topic T travels on subject `<prefix>.T`; the stream captures `<prefix>.>`. */
  readonly prefix?: string;
  /** How long a delivery may stay unacknowledged before JetStream redelivers it. */
  readonly ackWaitMs?: number;
  /** File (default, survives a broker restart) or memory storage. */
  readonly storage?: 'file' | 'memory';
}

/** Room kept below the server's max_payload for headers. */
const CHUNK_HEADROOM = 4096;
/** `<key> <index> <count>` on each chunk of a message too large for one NATS message. */
const CHUNK_HEADER = 'Jit-Chunk';
/** Bytes of unfinished chunked messages a subscription holds before it drops the oldest. */
const MAX_ASSEMBLING = 64 * 1024 * 1024;

/** Consumer names: what NATS accepts in a durable name. */
function consumerName(group: string): string {
  return `jit-${group.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * The NATS JetStream transport. One stream (default `JIT_PLANE`) holds every plane message under
 * `<prefix>.>`; a publish is a JetStream publish acknowledged by the server (`Nats-Msg-Id` = the
 * envelope id, so a retried publish inside the stream's duplicate window is stored once), split
 * into chunks when it is larger than the server's max_payload; a
 * subscription is a pull consumer with explicit acks, durable when it has a group. Deliveries a
 * member did not acknowledge are redelivered, in stream order, `ackWaitMs` after it went away.
 * (They are not nak'ed at close: the server would hand them straight back to the closing member's
 * still-open pull request, where they would wait out the ack timeout anyway, out of order.)
 */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly gaps: readonly TransportGap[] = [
    {
      feature: 'publisher-backpressure',
      reason:
        'JetStream stores what a slow consumer has not taken (bounded by the stream limits), so publishers are not slowed; the consumer side holds at most its pull window',
    },
  ];
  private readonly opts: Required<Omit<NatsOptions, 'url'>> & { url: string };
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private starting: Promise<void> | undefined;
  /** The client libraries, once `start` has loaded them. */
  private lib: NatsLib | undefined;
  private readonly subs = new Set<NatsSub>();
  private closed = false;

  constructor(o: NatsOptions) {
    this.opts = {
      url: o.url,
      stream: o.stream ?? 'JIT_PLANE',
      prefix: o.prefix ?? 'jitmp',
      ackWaitMs: o.ackWaitMs ?? 30_000,
      storage: o.storage ?? 'file',
    };
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new PlaneClosedError('this NATS connection is closed'));
    this.starting ??= (async () => {
      const u = new URL(this.opts.url);
      const lib = await loadNats();
      this.lib = lib;
      const { RetentionPolicy, StorageType } = lib.js;
      const nc = await lib.core.connect({
        servers: `${u.hostname}:${u.port || '4222'}`,
        ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
        ...(u.password ? { pass: decodeURIComponent(u.password) } : {}),
        maxReconnectAttempts: -1,
      });
      this.nc = nc;
      this.jsm = await lib.js.jetstreamManager(nc);
      this.js = lib.js.jetstream(nc);
      const subjects = [`${this.opts.prefix}.>`];
      try {
        await this.jsm.streams.info(this.opts.stream);
      } catch {
        await this.jsm.streams.add({
          name: this.opts.stream,
          subjects,
          retention: RetentionPolicy.Limits,
          storage: this.opts.storage === 'file' ? StorageType.File : StorageType.Memory,
          duplicate_window: lib.core.nanos(120_000),
        });
      }
      debug('connected to %s:%s, stream %s', u.hostname, u.port, this.opts.stream);
    })();
    return this.starting;
  }

  async health(): Promise<TransportHealth> {
    const nc = this.nc;
    if (this.closed || nc === undefined || nc.isClosed() || this.jsm === undefined)
      return { connected: false, detail: 'not connected' };
    try {
      const rtt = await nc.rtt();
      const s = await this.jsm.streams.info(this.opts.stream);
      return {
        connected: true,
        detail: `stream ${this.opts.stream}: ${s.state.messages} messages, ${s.state.consumer_count} consumers; rtt ${rtt.toFixed(1)} ms`,
      };
    } catch (e) {
      return { connected: false, detail: `no answer: ${(e as Error).message}` };
    }
  }

  async publish(topic: string, data: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new PlaneClosedError('this NATS connection is closed');
    checkTopic(topic);
    opts.signal?.throwIfAborted();
    await this.start();
    const subject = `${this.opts.prefix}.${topic}`;
    // the envelope id as Nats-Msg-Id: a publish repeated inside the duplicate window is stored
    // once; a deliberate re-send (the outbox) is another attempt, so it gets through
    const hex = opts.decoded !== undefined ? messageIdHex(opts.decoded) : undefined;
    const id = hex !== undefined && opts.attempt ? `${hex}.r${opts.attempt}` : hex;
    const room = this.nc!.info!.max_payload - CHUNK_HEADROOM;
    if (data.length <= room) {
      await this.js!.publish(subject, data, id !== undefined ? { msgID: id } : {});
      return;
    }
    // above the server's max_payload: in chunks, one after another, reassembled by subscribers
    const key = id ?? randomBytes(16).toString('hex');
    const n = Math.ceil(data.length / room);
    for (let i = 0; i < n; i++) {
      const h = this.lib!.core.headers();
      h.set(CHUNK_HEADER, `${key} ${i + 1} ${n}`);
      await this.js!.publish(subject, data.subarray(i * room, (i + 1) * room), {
        msgID: `${key}.${i + 1}`,
        headers: h,
      });
    }
  }

  async subscribe(pattern: string, opts: SubscribeOptions = {}): Promise<TransportSubscription> {
    if (this.closed) throw new PlaneClosedError('this NATS connection is closed');
    checkPattern(pattern);
    opts.signal?.throwIfAborted();
    await this.start();
    const maxInFlight = opts.maxInFlight ?? 256;
    const { AckPolicy, DeliverPolicy } = this.lib!.js;
    const { nanos } = this.lib!.core;
    const config = {
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${this.opts.prefix}.${pattern}`,
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: maxInFlight,
      ack_wait: nanos(this.opts.ackWaitMs),
      ...(opts.group !== undefined
        ? { durable_name: consumerName(opts.group) }
        : { inactive_threshold: nanos(60_000) }),
    };
    let name: string;
    if (opts.group !== undefined) {
      name = consumerName(opts.group);
      try {
        await this.jsm!.consumers.info(this.opts.stream, name);
      } catch {
        await this.jsm!.consumers.add(this.opts.stream, config);
      }
    } else name = (await this.jsm!.consumers.add(this.opts.stream, config)).name;
    const consumer = await this.js!.consumers.get(this.opts.stream, name);
    const s = new NatsSub(pattern, consumer, maxInFlight, this.opts.prefix.length + 1, (x) =>
      this.subs.delete(x),
    );
    this.subs.add(s);
    await s.open();
    opts.signal?.addEventListener('abort', () => void s.close(), { once: true });
    return s;
  }

  /** Deletes the plane's stream and every message and consumer in it (tests, operators). */
  async deleteStream(): Promise<void> {
    await this.start();
    await this.jsm!.streams.delete(this.opts.stream).catch(() => false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
    await this.starting?.catch(() => undefined);
    await this.nc?.drain().catch(() => undefined);
  }
}

interface Assembling {
  readonly parts: (JsMsg | undefined)[];
  got: number;
  bytes: number;
}

class NatsSub extends QueuedSubscription {
  readonly pattern: string;
  private readonly consumer: Consumer;
  private readonly window: number;
  private readonly cut: number;
  private readonly onClose: (s: NatsSub) => void;
  private readonly assembling = new Map<string, Assembling>();
  private held = 0;
  private messages: ConsumerMessages | undefined;

  constructor(
    pattern: string,
    consumer: Consumer,
    window: number,
    cut: number,
    onClose: (s: NatsSub) => void,
  ) {
    super();
    this.pattern = pattern;
    this.consumer = consumer;
    this.window = window;
    this.cut = cut;
    this.onClose = onClose;
  }

  async open(): Promise<void> {
    this.messages = await this.consumer.consume({ max_messages: this.window });
    // what arrives together is handed out in stream order: JetStream may redeliver nak'ed
    // messages out of order, and the plane's reorder buffer needs a stream's first message first
    let batch: JsMsg[] = [];
    const flush = (): void => {
      const ms = batch.sort((a, b) => a.seq - b.seq);
      batch = [];
      for (const m of ms) this.hand(m);
    };
    void (async () => {
      for await (const m of this.messages!) {
        if (this.ended) break;
        if (batch.length === 0) setImmediate(flush);
        batch.push(m);
      }
    })().catch((e: unknown) => debug('consume loop ended: %o', e));
  }

  private hand(m: JsMsg): void {
    if (this.ended) return;
    const chunk = m.headers?.get(CHUNK_HEADER);
    if (chunk) {
      this.assemble(m, chunk);
      return;
    }
    let acked = false;
    this.queue.push({
      topic: m.subject.slice(this.cut),
      data: m.data,
      redelivered: m.redelivered,
      deliveries: m.info.deliveryCount,
      ack: () => {
        if (acked) return;
        acked = true;
        m.ack();
      },
    });
  }

  /** Collects the chunks of one message; hands it out whole when the last arrives. */
  private assemble(m: JsMsg, header: string): void {
    const [key, index, count] = header.split(' ');
    const i = Number(index) - 1;
    const n = Number(count);
    if (!key || !Number.isInteger(i) || !Number.isInteger(n) || i < 0 || i >= n || n > 1024) {
      m.term(); // not ours to reassemble: never deliver it again
      return;
    }
    let a = this.assembling.get(key);
    if (a === undefined) {
      a = { parts: new Array<JsMsg | undefined>(n), got: 0, bytes: 0 };
      this.assembling.set(key, a);
    }
    if (a.parts[i] === undefined) {
      a.parts[i] = m;
      a.got++;
      a.bytes += m.data.length;
      this.held += m.data.length;
    }
    while (this.held > MAX_ASSEMBLING && this.assembling.size > 1) {
      // the oldest unfinished message goes: its chunks stay unacknowledged and come back later
      const [oldest, o] = this.assembling.entries().next().value as [string, Assembling];
      this.assembling.delete(oldest);
      this.held -= o.bytes;
    }
    if (a.got < n) return;
    this.assembling.delete(key);
    this.held -= a.bytes;
    const parts = a.parts as JsMsg[];
    const data = new Uint8Array(a.bytes);
    let at = 0;
    for (const p of parts) {
      data.set(p.data, at);
      at += p.data.length;
    }
    let acked = false;
    this.queue.push({
      topic: m.subject.slice(this.cut),
      data,
      redelivered: parts.some((p) => p.redelivered),
      deliveries: Math.max(...parts.map((p) => p.info.deliveryCount)),
      ack: () => {
        if (acked) return;
        acked = true;
        for (const p of parts) p.ack();
      },
    });
  }

  protected async release(): Promise<void> {
    this.onClose(this);
    await this.messages?.close().catch(() => undefined);
  }
}
