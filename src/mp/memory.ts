import { Numbered } from '../util/numbered.js';
import { QueuedSubscription } from './delivery-queue.js';
import { type Envelope, encodeEnvelope, envelopeLength } from './envelope.js';
import { PlaneClosedError, TopicError } from './errors.js';
import { FairBacklog } from './fair-backlog.js';
import { checkPattern, checkTopic, patternMatcher } from './topic.js';
import type {
  Delivery,
  PublishOptions,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportHealth,
  TransportSubscription,
} from './transport.js';

interface Held {
  /** Who published it (see `PublishOptions.from`): the group serves publishers in turn. */
  readonly key: string;
  readonly topic: string;
  /** The bytes; undefined until asked for when published as an envelope (`publishEnvelope`). */
  data: Uint8Array | undefined;
  /** The envelope, when the publisher handed it over; set whenever `data` is not. */
  readonly decoded: Envelope | undefined;
  redelivered: boolean;
  /** Times handed to a member. */
  deliveries: number;
}

const DEFAULT_IN_FLIGHT = 256;
const DONE = Promise.resolve();
const DEFAULT_BACKLOG = 1024;
/** Topics whose groups the broker remembers before it starts afresh. */
const ROUTES_KEPT = 4096;

/**
 * The messages of one consumer (durable: named; ephemeral: one subscription's own), queued by
 * publisher and handed out round-robin among publishers, FIFO per publisher (`FairBacklog`).
 */
class Group {
  readonly backlog: FairBacklog<Held>;
  readonly members: Member[] = [];
  private next = 0;
  private spaceWaiters: { key: string; done: () => void }[] = [];

  readonly name: string | undefined;
  readonly pattern: string;
  readonly matches: (topic: string) => boolean;

  constructor(name: string | undefined, pattern: string, maxBacklog: number) {
    this.name = name;
    this.pattern = pattern;
    this.matches = patternMatcher(pattern);
    this.backlog = new FairBacklog<Held>(maxBacklog);
  }

  get pending(): number {
    return this.backlog.length;
  }

  /** Whether publisher `key` holds as many messages here as one publisher may. */
  fullFor(key: string): boolean {
    return this.backlog.fullFor(key);
  }

  waitForSpace(key: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = {
        key,
        done: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.spaceWaiters = this.spaceWaiters.filter((x) => x !== w);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.spaceWaiters.push(w);
    });
  }

  push(h: Held): void {
    this.backlog.push(h.key, h);
    this.pump();
  }

  /** Puts unacknowledged messages back at the front, in their order. */
  requeue(hs: Held[]): void {
    for (const h of hs) h.redelivered = true;
    this.backlog.unshift(hs);
    this.pump();
  }

  /** Hands backlog to members with room, round robin. */
  pump(): void {
    const n = this.members.length;
    while (this.backlog.length > 0 && n > 0) {
      let m: Member | undefined;
      for (let i = 0; i < n; i++) {
        const c = this.members[(this.next + i) % n]!;
        if (c.hasRoom) {
          m = c;
          this.next = (this.next + i + 1) % n;
          break;
        }
      }
      if (m === undefined) break;
      m.hand(this.backlog.shift()!);
    }
    if (this.spaceWaiters.length > 0) {
      const waiting = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiting)
        if (this.fullFor(w.key)) this.spaceWaiters.push(w);
        else w.done();
    }
  }
}

/** One subscription: a member of its group. */
class Member extends QueuedSubscription {
  private readonly inflight = new Numbered<Held>();

  private readonly group: Group;
  private readonly maxInFlight: number;
  private readonly onClose: (m: Member) => void;

  constructor(group: Group, maxInFlight: number, onClose: (m: Member) => void) {
    super();
    this.group = group;
    this.maxInFlight = maxInFlight;
    this.onClose = onClose;
  }

  get pattern(): string {
    return this.group.pattern;
  }

  get hasRoom(): boolean {
    return !this.ended && this.inflight.size < this.maxInFlight;
  }

  hand(h: Held): void {
    const n = this.inflight.add(h);
    h.deliveries++;
    this.queue.push(new MemoryDelivery(h, this, n));
  }

  /** Delivery `n` is acknowledged: its place goes to the next message. */
  done(n: number): void {
    if (this.inflight.take(n) !== undefined) this.group.pump();
  }

  protected async release(): Promise<void> {
    const unacked = this.inflight.takeAll();
    this.onClose(this);
    if (unacked.length > 0) this.group.requeue(unacked);
  }
}

/** A message handed to a member; its bytes are encoded on first access if it came without them. */
class MemoryDelivery implements Delivery {
  readonly topic: string;
  readonly decoded: Envelope | undefined;
  readonly redelivered: boolean;
  readonly deliveries: number;
  private readonly held: Held;
  private readonly member: Member;
  private readonly n: number;
  private acked = false;

  constructor(h: Held, member: Member, n: number) {
    this.topic = h.topic;
    this.decoded = h.decoded;
    this.redelivered = h.redelivered;
    this.deliveries = h.deliveries;
    this.held = h;
    this.member = member;
    this.n = n;
  }

  get data(): Uint8Array {
    const h = this.held;
    if (h.data === undefined) h.data = encodeEnvelope(h.decoded!);
    return h.data;
  }

  get size(): number {
    const h = this.held;
    return h.data?.length ?? envelopeLength(h.decoded!) ?? this.data.length;
  }

  ack(): void {
    if (this.acked) return;
    this.acked = true;
    this.member.done(this.n);
  }
}

/**
 * An in-process broker: the `memory` transport's shared state. Connections made with `connect`
 * see each other's messages. Everything is bounded: a group holds at most `maxBacklog` messages
 * of each publisher, and a publisher waits for room (others do not wait with it).
 */
export class MemoryBroker {
  private readonly groups = new Set<Group>();
  /** The groups each recent topic goes to, in `groups` order; cleared when the groups change. */
  private readonly routes = new Map<string, readonly Group[]>();
  private readonly durable = new Map<string, Group>();
  readonly maxBacklog: number;
  /** Whether groups serve publishers in turn (default) or hold one FIFO, as a broker stream does. */
  readonly fairPublishers: boolean;

  constructor(opts: { maxBacklog?: number; fairPublishers?: boolean } = {}) {
    this.maxBacklog = opts.maxBacklog ?? DEFAULT_BACKLOG;
    this.fairPublishers = opts.fairPublishers ?? true;
  }

  connect(): Transport {
    return new MemoryTransport(this);
  }

  /** How many groups there are and how many messages they hold. */
  stats(): { groups: number; held: number } {
    let held = 0;
    for (const g of this.groups) held += g.pending;
    return { groups: this.groups.size, held };
  }

  /** Forgets a durable group and what it holds. */
  deleteGroup(name: string): void {
    const g = this.durable.get(name);
    if (g === undefined) return;
    this.durable.delete(name);
    this.groups.delete(g);
    this.routes.clear();
  }

  /** The groups whose pattern matches `topic` (matched once per topic, then remembered). */
  private routesFor(topic: string): readonly Group[] {
    let gs = this.routes.get(topic);
    if (gs === undefined) {
      gs = [...this.groups].filter((g) => g.matches(topic));
      if (this.routes.size >= ROUTES_KEPT) this.routes.clear();
      this.routes.set(topic, gs);
    }
    return gs;
  }

  /** @internal */
  publish(
    topic: string,
    data: Uint8Array | undefined,
    decoded: Envelope | undefined,
    signal: AbortSignal | undefined,
    from: string | undefined,
  ): Promise<void> | undefined {
    const key = this.fairPublishers ? (from ?? decoded?.sender ?? '') : '';
    let gs: Group[] | undefined;
    for (const g of this.routesFor(topic)) {
      if (gs !== undefined || g.fullFor(key)) {
        // this group (and every one after it) waits for room, in turn
        gs ??= [];
        gs.push(g);
        continue;
      }
      g.push({ key, topic, data, decoded, redelivered: false, deliveries: 0 });
    }
    return gs === undefined
      ? undefined
      : this.publishWaiting(gs, { key, topic, data, decoded }, signal);
  }

  /** Puts `m` in each of `gs` in turn, waiting for room in each. */
  private async publishWaiting(
    gs: Group[],
    m: Omit<Held, 'redelivered' | 'deliveries'>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (const g of gs) {
      while (g.fullFor(m.key) && this.groups.has(g)) await g.waitForSpace(m.key, signal);
      if (this.groups.has(g)) g.push({ ...m, redelivered: false, deliveries: 0 });
    }
  }

  /** @internal */
  join(pattern: string, opts: SubscribeOptions, onClose: (m: Member) => void): Member {
    let g: Group;
    if (opts.group !== undefined) {
      const existing = this.durable.get(opts.group);
      if (existing !== undefined && existing.pattern !== pattern)
        throw new TopicError(
          `group ${opts.group} subscribes to "${existing.pattern}", not "${pattern}"`,
          { group: opts.group },
        );
      g = existing ?? new Group(opts.group, pattern, this.maxBacklog);
      if (existing === undefined) {
        this.durable.set(opts.group, g);
        this.groups.add(g);
        this.routes.clear();
      }
    } else {
      g = new Group(undefined, pattern, this.maxBacklog);
      this.groups.add(g);
      this.routes.clear();
    }
    const m = new Member(g, opts.maxInFlight ?? DEFAULT_IN_FLIGHT, (mm) => {
      const i = g.members.indexOf(mm);
      if (i >= 0) g.members.splice(i, 1);
      if (g.name === undefined && this.groups.delete(g)) this.routes.clear();
      g.pump();
      onClose(mm);
    });
    g.members.push(m);
    g.pump();
    return m;
  }
}

class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly gaps: readonly TransportGap[] = [
    { feature: 'survives-restart', reason: 'an in-process broker lives and dies with its process' },
  ];
  private readonly subs = new Set<Member>();
  private tail: Promise<void> | undefined;
  private closed = false;

  private readonly broker: MemoryBroker;

  constructor(broker: MemoryBroker) {
    this.broker = broker;
  }

  async start(): Promise<void> {
    if (this.closed) throw new PlaneClosedError('this memory connection is closed');
  }

  async health(): Promise<TransportHealth> {
    const s = this.broker.stats();
    return {
      connected: !this.closed,
      detail: `in process: ${s.groups} groups, ${s.held} messages waiting`,
    };
  }

  publish(topic: string, data: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    return this.put(topic, data, opts.decoded, opts);
  }

  publishEnvelope(topic: string, envelope: Envelope, opts: PublishOptions = {}): Promise<void> {
    return this.put(topic, undefined, envelope, opts);
  }

  private put(
    topic: string,
    data: Uint8Array | undefined,
    decoded: Envelope | undefined,
    opts: PublishOptions,
  ): Promise<void> {
    if (this.closed)
      return Promise.reject(new PlaneClosedError('this memory connection is closed'));
    checkTopic(topic);
    opts.signal?.throwIfAborted();
    // in call order: once one publish waits for room, later ones wait behind it
    if (this.tail === undefined) {
      const wait = this.broker.publish(topic, data, decoded, opts.signal, opts.from);
      return wait === undefined ? DONE : this.hold(wait);
    }
    return this.hold(
      this.tail.then(() => this.broker.publish(topic, data, decoded, opts.signal, opts.from)),
    );
  }

  private hold(p: Promise<void>): Promise<void> {
    const t: Promise<void> = p.then(
      () => {
        if (this.tail === t) this.tail = undefined;
      },
      () => {
        if (this.tail === t) this.tail = undefined;
      },
    );
    this.tail = t;
    return p;
  }

  async subscribe(pattern: string, opts: SubscribeOptions = {}): Promise<TransportSubscription> {
    if (this.closed) throw new PlaneClosedError('this memory connection is closed');
    checkPattern(pattern);
    opts.signal?.throwIfAborted();
    const m = this.broker.join(pattern, opts, (mm) => this.subs.delete(mm));
    this.subs.add(m);
    opts.signal?.addEventListener('abort', () => void m.close(), { once: true });
    return m;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
  }
}
