import { randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';
import type { IClientOptions, MqttClient } from 'mqtt';
import { QueuedSubscription } from '../../delivery-queue.js';
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
import { DeliveryCounts } from './delivery-count.js';
import { loadMqtt } from './load.js';

const debug = debuglog('jit:mqtt');

export interface MqttOptions {
  /** `mqtt://[user:pass@]host:1883` (credentials go to the client, never to logs). */
  readonly url: string;
  /** Plane topic `a.b` travels on MQTT topic `<prefix>/a/b`. */
  readonly prefix?: string;
  /** Publishes awaiting their PUBACK at once (Mosquitto accepts 20 by default). */
  readonly maxInflight?: number;
}

/** `a.*.c` → `<prefix>/a/+/c`, `a.>` → `<prefix>/a/#`. */
function mqttFilter(prefix: string, pattern: string): string {
  return `${prefix}/${pattern
    .split('.')
    .map((t) => (t === '*' ? '+' : t === '>' ? '#' : t))
    .join('/')}`;
}

function clientOptions(clientId: string, clean: boolean): IClientOptions {
  return {
    clientId,
    clean,
    protocolVersion: 5,
    reconnectPeriod: 1000,
    // a durable group's session outlives its connection (a day), so what arrives meanwhile waits
    ...(clean ? {} : { properties: { sessionExpiryInterval: 86_400 } }),
  };
}

/**
 * The MQTT transport (MQTT 5 over MQTT.js). Topics map `.` to `/` under a prefix; patterns map `*`
 * to `+` and `>` to `#`. Publishes are QoS 1 with at most `maxInflight` awaiting PUBACK (Mosquitto
 * refuses more). A subscription has its own connection: a durable group is a persistent session
 * (client id `jit-<group>`, clean start off), so what it did not acknowledge is sent again when a
 * member connects with that id; without a group the session is clean. A delivery's PUBACK goes
 * out when the plane acknowledges it, and MQTT.js reads the next message only then, so a
 * subscription hands the plane one unacknowledged delivery at a time, in order. So the first
 * delivery of a resumed group session that carries DUP is the one the last member held, and
 * `DeliveryCounts` counts it with a retained record under `<prefix>-deliveries/` for the
 * dead-letter policy.
 */
export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  readonly gaps: readonly TransportGap[] = [
    {
      feature: 'publisher-backpressure',
      reason:
        'MQTT does not slow publishers for a slow subscriber; the broker queues for it instead',
    },
    {
      feature: 'lossless-slow-consumer',
      reason:
        'the broker queues at most max_queued_messages per subscriber (Mosquitto: 1000 by default) and drops the rest; set max_queued_messages 0 in mosquitto.conf for a plane, at the cost of broker memory',
    },
    {
      feature: 'competing-members',
      reason:
        'a group is one persistent session (client id jit-<group>): a second member takes the session over instead of sharing it; MQTT 5 shared subscriptions ($share/...) are not used yet',
    },
  ];
  private readonly url: string;
  private readonly prefix: string;
  private readonly maxInflight: number;
  private client: MqttClient | undefined;
  private starting: Promise<MqttClient> | undefined;
  private inflight = 0;
  private waiters: (() => void)[] = [];
  private readonly subs = new Set<MqttSub>();
  private readonly counts: DeliveryCounts;
  private closed = false;

  constructor(o: MqttOptions) {
    this.url = o.url;
    this.prefix = o.prefix ?? 'jit';
    this.maxInflight = o.maxInflight ?? 16;
    this.counts = new DeliveryCounts(this.url, `${this.prefix}-deliveries`, () => this.connected());
  }

  async start(): Promise<void> {
    await this.connected();
  }

  async health(): Promise<TransportHealth> {
    const up = !this.closed && this.client !== undefined && this.client.connected;
    return {
      connected: up,
      detail: `prefix ${this.prefix}: ${this.subs.size} subscriptions, ${this.inflight} publishes awaiting PUBACK${up ? '' : ' (reconnecting)'}`,
    };
  }

  private connected(): Promise<MqttClient> {
    if (this.closed) return Promise.reject(new PlaneClosedError('this MQTT connection is closed'));
    this.starting ??= loadMqtt()
      .then((lib) =>
        lib.connectAsync(
          this.url,
          clientOptions(`jit-pub-${randomBytes(6).toString('hex')}`, true),
        ),
      )
      .then((c) => {
        this.client = c;
        c.on('error', (e) => debug('publisher: %s', e.message));
        return c;
      });
    return this.starting;
  }

  async publish(topic: string, data: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (this.closed) throw new PlaneClosedError('this MQTT connection is closed');
    checkTopic(topic);
    opts.signal?.throwIfAborted();
    const c = await this.connected();
    // in call order: a publish that must wait for a free slot keeps later ones behind it
    if (this.inflight >= this.maxInflight || this.waiters.length > 0)
      await new Promise<void>((r) => this.waiters.push(r));
    this.inflight++;
    try {
      await c.publishAsync(
        `${this.prefix}/${topic.replaceAll('.', '/')}`,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        { qos: 1 },
      );
    } finally {
      this.inflight--;
      this.waiters.shift()?.();
    }
  }

  async subscribe(pattern: string, opts: SubscribeOptions = {}): Promise<TransportSubscription> {
    if (this.closed) throw new PlaneClosedError('this MQTT connection is closed');
    checkPattern(pattern);
    opts.signal?.throwIfAborted();
    const { connect } = await loadMqtt();
    if (this.closed) throw new PlaneClosedError('this MQTT connection is closed');
    const group =
      opts.group === undefined
        ? undefined
        : opts.group.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
    const durable = group !== undefined;
    const id = durable ? `jit-${group}` : `jit-sub-${randomBytes(6).toString('hex')}`;
    const s = new MqttSub(pattern, this.prefix, (x) => this.subs.delete(x), group, this.counts);
    const c = connect(this.url, {
      ...clientOptions(id, !durable),
      customHandleAcks: (topic, message, packet, done) =>
        s.receive(topic, message, packet.dup === true, done),
    });
    s.attach(c);
    c.on('connect', () => s.connected());
    c.on('error', (e) => debug('subscriber %s: %s', id, e.message));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      c.once('connect', (p) => resolve(p));
      c.once('error', reject);
    });
    const filter = mqttFilter(this.prefix, pattern);
    if (connack.sessionPresent) {
      // the session holds the subscription already, and its queued messages may be arriving
      // ahead of any SUBACK: MQTT.js reads nothing more until the first is acknowledged, so do
      // not wait for one
      c.subscribe(filter, { qos: 1 }, (e) => {
        if (e) debug('subscribe %s: %s', filter, e.message);
      });
    } else await c.subscribeAsync(filter, { qos: 1 });
    this.subs.add(s);
    opts.signal?.addEventListener('abort', () => void s.close(), { once: true });
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
    await this.counts.close();
    const c = this.client ?? (await this.starting?.catch(() => undefined));
    await c?.endAsync().catch(() => undefined);
  }
}

class MqttSub extends QueuedSubscription {
  readonly pattern: string;
  private readonly cut: number;
  private readonly onClose: (s: MqttSub) => void;
  /** The durable group (as its session names it), or undefined for a clean session. */
  private readonly group: string | undefined;
  private readonly counts: DeliveryCounts;
  private client: MqttClient | undefined;
  /** No delivery yet on this connection: a DUP one now is what the session's last holder held. */
  private fresh = true;

  constructor(
    pattern: string,
    prefix: string,
    onClose: (s: MqttSub) => void,
    group: string | undefined,
    counts: DeliveryCounts,
  ) {
    super();
    this.pattern = pattern;
    this.cut = prefix.length + 1;
    this.onClose = onClose;
    this.group = group;
    this.counts = counts;
  }

  attach(c: MqttClient): void {
    this.client = c;
  }

  /** The connection (re)connected: the session sends what it has in flight again, first. */
  connected(): void {
    this.fresh = true;
  }

  /** From MQTT.js: the PUBACK (and the next read) waits for `done`. */
  receive(
    topic: string,
    message: Buffer,
    dup: boolean,
    done: (error: Error | number, code?: number) => void,
  ): void {
    if (this.ended) return; // no PUBACK: the session sends it again
    const data = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const first = this.fresh;
    this.fresh = false;
    // The plane is handed one delivery at a time, so of what a resumed session sends again only
    // the first can have reached the last member's plane: it is counted. The others behind it sat
    // unread in that member's socket, and a clean session never sends anything twice: count 1.
    if (this.group === undefined || !dup || !first) {
      this.hand(topic, data, dup, 1, done);
      return;
    }
    const group = this.group;
    const digest = DeliveryCounts.digest(topic, data);
    void this.counts
      .redelivered(group, digest, () => this.ended)
      .then((n) => {
        if (n === undefined || this.ended) return; // closed meanwhile: it comes back
        this.hand(topic, data, true, n, done, () => this.counts.clear(group));
      });
  }

  private hand(
    topic: string,
    data: Uint8Array,
    redelivered: boolean,
    deliveries: number,
    done: (error: Error | number, code?: number) => void,
    acked?: () => void,
  ): void {
    let settled = false;
    this.queue.push({
      topic: topic.slice(this.cut).replaceAll('/', '.'),
      data,
      redelivered,
      deliveries,
      ack: () => {
        if (settled || this.ended) return;
        settled = true;
        done(0);
        acked?.();
      },
    });
  }

  protected async release(): Promise<void> {
    this.onClose(this);
    const c = this.client;
    if (c === undefined) return;
    // The PUBACKs already given must reach the broker before the connection goes: a socket closed
    // with unread deliveries in it is reset, and a reset drops what it had not sent yet (the
    // broker would send an acknowledged message again). The broker answers in order, so once an
    // UNSUBACK is back every PUBACK before it has arrived.
    if (c.connected)
      await Promise.race([
        c.unsubscribeAsync('jit-flush').catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
    // force: no DISCONNECT handshake that would wait for the unacknowledged delivery
    await c.endAsync(true).catch(() => undefined);
  }
}
