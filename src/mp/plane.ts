import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { BatchVerifier, KERNEL_AGENT, type Signer, type Verifier } from '../identity/index.js';
import {
  checkSignature,
  decodeEnvelope,
  ENVELOPE_VERSION,
  type Envelope,
  encodeEnvelope,
  envelopeFits,
  MAX_ENVELOPE_BYTES,
  messageIdHex,
  newMessageId,
  seal,
  sealBatch,
  signingBytes,
  tooLargeToBatch,
} from './envelope.js';
import { PayloadTooLargeError, PlaneClosedError, PlaneOptionError } from './errors.js';
import { RoundRobin } from './fair-queue.js';
import { checkTopic, isKernelTopic, MAX_TOPIC_LENGTH } from './topic.js';
import type { Delivery, PublishOptions, Transport, TransportSubscription } from './transport.js';
import { type Gap, RecentPairs, Reorder } from './window.js';

const debug = debuglog('jit:mp');

/** How long what a plane sends stays valid, by default. */
export const DEFAULT_TTL_MS = 60_000;
/** The longest validity a subscriber accepts (an `exp` further ahead is refused). */
export const MAX_TTL_MS = 10 * 60_000;
/** How far apart senders' and subscribers' clocks may be. */
export const CLOCK_SKEW_MS = 30_000;

/** Why an envelope's expiry refuses it at `now`, or undefined when it is fine. */
export function expiryProblem(exp: number | undefined, now: number): string | undefined {
  if (exp === undefined) return 'it carries no expiry';
  if (exp + CLOCK_SKEW_MS < now) return `it expired ${Math.round((now - exp) / 1000)} s ago`;
  if (exp > now + MAX_TTL_MS + CLOCK_SKEW_MS)
    return `its expiry is more than ${MAX_TTL_MS / 60_000} min ahead`;
  return undefined;
}

/** Why a delivery was dropped instead of delivered. */
export type RejectReason =
  | 'malformed'
  | 'unsigned'
  | 'unknown-sender'
  | 'bad-signature'
  | 'wrong-topic'
  | 'not-kernel'
  | 'duplicate'
  | 'stale'
  | 'denied'
  | 'rate-limited'
  | 'expired';

/** Why `authorize` refuses a message. */
export interface Refusal {
  readonly refuse: 'denied' | 'rate-limited';
  readonly detail: string;
}

export interface Rejection {
  readonly reason: RejectReason;
  /** The topic it was delivered on. */
  readonly topic: string;
  readonly sender?: string;
  readonly id?: string;
  readonly detail?: string;
}

/** A verified message, delivered in order. */
export interface Message {
  readonly envelope: Envelope;
  readonly topic: string;
  readonly sender: string;
  readonly payload: CborValue;
  /** The message id as hex. */
  readonly id: string;
  readonly redelivered: boolean;
  /** Times the transport has handed it out, this time included, where it counts (see `Delivery`). */
  readonly deliveries: number | undefined;
  /** Done with it: it will not be delivered again. Idempotent. */
  ack(): void;
}

/** What the plane publishes on the dead-letter topic for a message it gave up on. */
export interface DeadLetter {
  /** Where the message was published, and by whom. */
  readonly topic: string;
  readonly sender: string;
  /** Its message id as hex. */
  readonly id: string;
  /** How many times it had been handed out. */
  readonly deliveries: number;
  /** The group it was consumed in. */
  readonly group: string | null;
  /** The original envelope, as published: its signature still checks against its sender. */
  readonly envelope: Uint8Array;
}

/** The prefix of dead-letter topics: a message on `T` goes to `jit.dead.T`. */
export const DEAD_LETTER_PREFIX = 'jit.dead';
/** Deliveries of one message before it goes to the dead-letter topic instead (see subscribe). */
export const DEFAULT_MAX_DELIVERIES = 10;

/** The dead-letter topic for messages on `topic`: `jit.dead.<topic>`, or `jit.dead` when too long. */
export function deadLetterTopic(topic: string): string {
  const t = `${DEAD_LETTER_PREFIX}.${topic}`;
  return t.length <= MAX_TOPIC_LENGTH ? t : DEAD_LETTER_PREFIX;
}

export interface PlaneOptions {
  readonly transport: Transport;
  /** The agent id this plane publishes as. */
  readonly sender: string;
  /** Signs every envelope this plane publishes; without it envelopes go unsigned. */
  readonly signer?: Signer;
  /** Checks the signatures of what is delivered; without it they are not checked. */
  readonly verifier?: Verifier;
  /** Drop unsigned messages (default: true when a verifier is given). */
  readonly requireSignatures?: boolean;
  /**
   * The ACL and rate limits at this subscriber: asked, once a message's signature has verified,
   * whether its sender may publish `bytes` on the topic; a refusal drops it (`denied` or
   * `rate-limited`, with the reason as detail), undefined lets it through. jitd's plane asks the
   * kernel's policy, so a message no agent may send is refused at the kernel whatever the broker
   * let through. It may answer later (a promise), when it must first learn something (an agent's
   * `AclView` loading an SWS's members): the message then waits, and what follows it in its
   * (topic, sender) stream waits in the reorder buffer behind it.
   */
  readonly authorize?: (
    sender: string,
    topic: string,
    bytes: number,
  ) => Refusal | undefined | Promise<Refusal | undefined>;
  /** Remembered (sender, id) pairs for duplicate suppression, per subscription (default 16384). */
  readonly dedupWindow?: number;
  /** Out-of-order messages held per (topic, sender) before a gap is reported (default 256). */
  readonly reorderBound?: number;
  /**
   * (topic, sender) streams a subscription keeps order for (default 16384). Past that, the streams
   * holding nothing are forgotten (`PlaneStats.streamsForgotten`); one that speaks again starts
   * afresh from the `seq` it sends, and a copy of an old message that the duplicate window no
   * longer remembers then goes out as late instead of being refused as stale (at-least-once
   * allows it; the kernel's commands are idempotent).
   */
  readonly streamsKept?: number;
  /** How long a held message waits for the ones before it before a gap is reported (default 1000 ms). */
  readonly gapTimeoutMs?: number;
  /**
   * How long what this plane sends stays valid (its signed `exp`), default 60 s; at most 10 min;
   * 0 sends no expiry. The outbox renews the expiry of a command it is still retrying.
   */
  readonly ttlMs?: number;
  /** Refuse envelopes that carry no expiry (jitd's plane does). Default false. */
  readonly requireExpiry?: boolean;
  /**
   * With a signer: the most publishes one batch signature covers (default 256, at most 4096; 1
   * signs each on its own). The publishes made in one synchronous run are signed together when
   * that run ends (a microtask later), so a burst costs one Ed25519 signature, and its receivers
   * one check, per batch instead of per message (docs/MESSAGE_PLANE.md, "Batch signatures").
   */
  readonly batch?: number;
}

/** The default of `PlaneOptions.batch`. */
export const DEFAULT_BATCH = 256;

/** A message built and encoded, waiting for its batch to be signed. */
interface Staged {
  readonly topic: string;
  readonly envelope: Envelope;
  readonly signed: Uint8Array;
  /** Called with the signed envelope and its bytes, in publish order, when the batch is signed. */
  readonly sealed: (envelope: Envelope, bytes: Uint8Array) => void;
  readonly failed: (e: unknown) => void;
}

export interface PlaneStats {
  published: number;
  delivered: number;
  gaps: number;
  /** Messages delivered out of order because they came after the stream had moved past them. */
  late: number;
  /** Messages sent to a dead-letter topic after too many deliveries. */
  deadLettered: number;
  /** Idle (topic, sender) streams forgotten to keep a subscription's table bounded (`streamsKept`). */
  streamsForgotten: number;
  rejected: Record<RejectReason, number>;
}

export interface PlaneSubscribeOptions {
  /** A durable consumer name (see the transport's `group`). */
  readonly group?: string;
  readonly maxInFlight?: number;
  /**
   * A message the transport has handed out more than this many times (a consumer kept dying
   * before acknowledging it) is published to the dead-letter topic and acknowledged instead of
   * delivered (default 10; 0: never). Only where the transport counts deliveries (see its gaps).
   */
  readonly maxDeliveries?: number;
  /** Where such messages go (default `jit.dead.<topic>`, see `deadLetterTopic`). */
  readonly deadLetterTopic?: string;
  /**
   * With a callback: how many callbacks may run at once (default 1). They are started in
   * delivery order, each message acknowledged when its own callback settles. The kernel bridge
   * uses it so that commands admitted one after another share a WAL sync instead of each
   * waiting for the last one's.
   */
  readonly concurrency?: number;
  /**
   * Put each (topic, sender) stream in `seq` order (default true). A subscriber that matches
   * answers to questions (the outbox) needs no order, and then may `filter`.
   */
  readonly ordered?: boolean;
  /**
   * Looked at before the signature is checked (which is the costly part): what it refuses is
   * acknowledged and dropped unverified and uncounted. Only with `ordered: false`, because a
   * stream with holes cannot be put in order.
   */
  readonly filter?: (e: Envelope) => boolean;
  /**
   * Check what the transport holds round-robin by sender, FIFO per sender, instead of in arrival
   * order (default false). The checks, signature first, are the costly part: a sender with a
   * thousand messages queued then delays another sender's next message by one check, not a
   * thousand. The sender here is the one the envelope claims (it is not verified yet); that only
   * decides the order of checking. The kernel bridge uses it.
   */
  readonly fair?: boolean;
  readonly signal?: AbortSignal;
}

export interface PlaneSubscription extends AsyncIterable<Message> {
  readonly pattern: string;
  close(): Promise<void>;
}

let lastEpoch = 0;
const NO_OPTIONS: PublishOptions = {};

/** Who a refused delivery came from, for its rejection report. */
function whoOf(d: Delivery, e: Envelope): { topic: string; sender: string; id: string } {
  return { topic: d.topic, sender: e.sender, id: messageIdHex(e) };
}

/**
 * A stream epoch for a new plane: the wall clock in ms, and above any epoch given out before in
 * this process, so two planes started in one millisecond still differ. A sender restarted in
 * another process gets a larger one as long as its clock has not gone back; if it has, the
 * kernel refuses its commands as from an old stream until the clock passes the old epoch (see
 * MESSAGE_PLANE.md, "Stream epochs").
 */
function nextEpoch(): number {
  lastEpoch = Math.max(Date.now(), lastEpoch + 1);
  return lastEpoch;
}

/**
 * The Message Plane API (DESIGN §6) over one transport: signed envelopes out; verified,
 * deduplicated, per-(topic, sender) ordered messages in. It only proposes: nothing here touches
 * the kernel's state.
 */
export class Plane {
  readonly sender: string;
  readonly transport: Transport;
  readonly stats: PlaneStats = {
    published: 0,
    delivered: 0,
    gaps: 0,
    late: 0,
    deadLettered: 0,
    streamsForgotten: 0,
    rejected: {
      malformed: 0,
      unsigned: 0,
      'unknown-sender': 0,
      'bad-signature': 0,
      'wrong-topic': 0,
      'not-kernel': 0,
      duplicate: 0,
      stale: 0,
      denied: 0,
      'rate-limited': 0,
      expired: 0,
    },
  };
  private readonly opts: PlaneOptions;
  private readonly requireSigs: boolean;
  private readonly ttlMs: number;
  private readonly batchMax: number;
  /** @internal `PlaneOptions.streamsKept`, checked. */
  readonly streamsKept: number;
  private readonly batches: BatchVerifier | undefined;
  private staged: Staged[] = [];
  private flushQueued = false;
  private readonly seqs = new Map<string, number>();
  /** This plane's stream epoch (`Envelope.ep`): its sequence numbers count from 1 within it. */
  readonly epoch = nextEpoch();
  private readonly subs = new Set<PlaneSub>();
  private readonly rejectListeners = new Set<(r: Rejection) => void>();
  private readonly gapListeners = new Set<(g: Gap) => void>();
  private clock = 0;
  private closed = false;

  private constructor(opts: PlaneOptions) {
    this.opts = opts;
    this.sender = opts.sender;
    this.transport = opts.transport;
    this.requireSigs = opts.requireSignatures ?? opts.verifier !== undefined;
    const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL_MS)
      throw new PlaneOptionError(`ttlMs must be 0 to ${MAX_TTL_MS} ms, not ${String(ttl)}`);
    this.ttlMs = ttl;
    const batch = opts.batch ?? DEFAULT_BATCH;
    if (!Number.isSafeInteger(batch) || batch < 1 || batch > 4096)
      throw new PlaneOptionError(`batch must be 1 to 4096 messages, not ${String(batch)}`);
    this.batchMax = batch;
    const kept = opts.streamsKept ?? 16384;
    if (!Number.isSafeInteger(kept) || kept < 1)
      throw new PlaneOptionError(`streamsKept must be a whole number ≥ 1, not ${String(kept)}`);
    this.streamsKept = kept;
    this.batches = opts.verifier === undefined ? undefined : new BatchVerifier(opts.verifier);
  }

  /** Signature checks made and messages passed on an already-authenticated batch node. */
  get batchStats(): { readonly signatures: number; readonly cached: number } {
    return this.batches?.stats ?? { signatures: 0, cached: 0 };
  }

  /** Starts the transport and returns the plane. */
  static async open(opts: PlaneOptions & { signal?: AbortSignal }): Promise<Plane> {
    if (opts.signer !== undefined && opts.signer.agent !== opts.sender)
      throw new PlaneClosedError(`the signer is ${opts.signer.agent}, not ${opts.sender}`);
    await opts.transport.start({ signal: opts.signal });
    return new Plane(opts);
  }

  /** Listens for dropped deliveries; returns a function that stops listening. */
  onReject(f: (r: Rejection) => void): () => void {
    this.rejectListeners.add(f);
    return () => this.rejectListeners.delete(f);
  }

  /** Listens for gaps in (topic, sender) streams; returns a function that stops listening. */
  onGap(f: (g: Gap) => void): () => void {
    this.gapListeners.add(f);
    return () => this.gapListeners.delete(f);
  }

  /** Builds, signs and encodes the next envelope for `topic` without sending it. */
  envelope(topic: string, payload: CborValue): { envelope: Envelope; bytes: Uint8Array } {
    let e = this.draft(topic, payload);
    if (this.opts.signer !== undefined) e = seal(e, this.opts.signer);
    return { envelope: e, bytes: this.encoded(e) };
  }

  /** `e` encoded, its size checked, and its `seq` taken. */
  private encoded(e: Envelope): Uint8Array {
    const bytes = encodeEnvelope(e);
    if (bytes.length > MAX_ENVELOPE_BYTES)
      throw new PayloadTooLargeError(
        `an envelope of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`,
        { topic: e.topic },
      );
    this.seqs.set(e.topic, e.seq);
    return bytes;
  }

  /** The next envelope for `topic`, unsigned; its `seq` is taken only when the caller sets it. */
  private draft(topic: string, payload: CborValue): Envelope {
    checkTopic(topic);
    const e: { -readonly [K in keyof Envelope]: Envelope[K] } = {
      v: ENVELOPE_VERSION,
      id: newMessageId(),
      sender: this.sender,
      ts: ++this.clock,
      seq: (this.seqs.get(topic) ?? 0) + 1,
      topic,
      payload,
    };
    // fields added in one order rather than a spread of the optional one: this runs per publish
    if (this.ttlMs > 0) e.exp = Date.now() + this.ttlMs;
    e.ep = this.epoch;
    return e;
  }

  /** Whether publishes wait for a batch signature (see `PlaneOptions.batch`). */
  private get batching(): boolean {
    return this.opts.signer !== undefined && this.batchMax > 1;
  }

  /**
   * Builds the next envelope for `topic` and stages it for the next batch signature; `sealed` is
   * called with it signed. Throws (without using up a sequence number) when the topic or the
   * size is wrong.
   */
  private stage(
    topic: string,
    payload: CborValue,
    sealed: Staged['sealed'],
    failed: Staged['failed'],
  ): void {
    const envelope = this.draft(topic, payload);
    const seq = envelope.seq;
    const signed = signingBytes(envelope);
    if (tooLargeToBatch(signed))
      throw new PayloadTooLargeError(
        `an envelope of ${signed.length} bytes (and its batch proof) exceeds ${MAX_ENVELOPE_BYTES}`,
        { topic },
      );
    this.seqs.set(topic, seq);
    this.staged.push({ topic, envelope, signed, sealed, failed });
    if (this.staged.length >= this.batchMax) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Signs what is staged with one signature and hands each on, in publish order. */
  private readonly flush = (): void => {
    this.flushQueued = false;
    const items = this.staged;
    if (items.length === 0) return;
    this.staged = [];
    let sealed: { envelope: Envelope; bytes: Uint8Array }[];
    try {
      sealed = sealBatch(items, this.opts.signer!);
    } catch (e) {
      for (const x of items) x.failed(e);
      return;
    }
    for (let i = 0; i < items.length; i++) items[i]!.sealed(sealed[i]!.envelope, sealed[i]!.bytes);
  };

  /** Builds the next envelope for `topic`, signed (in a batch when batching), and sends it. */
  private sendNow(
    topic: string,
    payload: CborValue,
    signal: AbortSignal | undefined,
  ): Promise<{ envelope: Envelope; bytes: Uint8Array; sent: Promise<void> }> {
    if (!this.batching) {
      const { envelope, bytes } = this.envelope(topic, payload);
      return Promise.resolve({ envelope, bytes, sent: this.send(topic, bytes, signal, envelope) });
    }
    return new Promise((resolve, reject) =>
      this.stage(
        topic,
        payload,
        (envelope, bytes) =>
          resolve({ envelope, bytes, sent: this.send(topic, bytes, signal, envelope) }),
        reject,
      ),
    );
  }

  /** `e` with a fresh expiry, signed again (on its own). */
  private renew(e: Envelope): { envelope: Envelope; bytes: Uint8Array } {
    const { sig: _sig, batch: _batch, ...rest } = e;
    let next: Envelope = { ...rest, exp: Date.now() + this.ttlMs };
    if (this.opts.signer !== undefined) next = seal(next, this.opts.signer);
    return { envelope: next, bytes: encodeEnvelope(next) };
  }

  /**
   * Publishes `payload` on `topic`; resolves with the envelope once the transport has it.
   * Publishes on one topic leave in call order (FIFO per topic and sender).
   */
  publish(
    topic: string,
    payload: CborValue,
    opts: { signal?: AbortSignal } = {},
  ): Promise<Envelope> {
    try {
      return this.publishOrThrow(topic, payload, opts.signal);
    } catch (e) {
      // a bad topic or payload: a rejected promise, never a throw
      return Promise.reject(e);
    }
  }

  private publishOrThrow(
    topic: string,
    payload: CborValue,
    signal: AbortSignal | undefined,
  ): Promise<Envelope> {
    if (this.closed) return Promise.reject(new PlaneClosedError('the plane is closed'));
    if (this.opts.signer === undefined && this.transport.publishEnvelope !== undefined) {
      // in process and unsigned: the envelope itself goes, and bytes are made only if asked for
      const e = this.draft(topic, payload);
      if (envelopeFits(e)) {
        this.seqs.set(topic, e.seq);
        return this.transport
          .publishEnvelope(topic, e, signal ? { signal } : NO_OPTIONS)
          .then(() => {
            this.stats.published++;
            return e;
          });
      }
      const bytes = this.encoded(e);
      return this.send(topic, bytes, signal, e).then(() => e);
    }
    if (!this.batching) {
      const { envelope, bytes } = this.envelope(topic, payload);
      return this.published(topic, bytes, signal, envelope);
    }
    let resolve!: (e: Envelope) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<Envelope>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // settled from the transport's own promise: what `published` does, written out because
    // resolving `done` with its promise costs two more jobs and a promise per message, and
    // `published(…).then(resolve, reject)` one more promise (3-4% of the batched loop)
    this.stage(
      topic,
      payload,
      (envelope, bytes) =>
        this.transport
          .publish(topic, bytes, signal ? { signal, decoded: envelope } : { decoded: envelope })
          .then(() => {
            this.stats.published++;
            resolve(envelope);
          }, reject),
      reject,
    );
    return done;
  }

  /**
   * A first publish of `envelope`'s bytes, resolving with the envelope once the transport has it:
   * the transport directly, one promise less than `send` (this runs for every publish).
   */
  private published(
    topic: string,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
    envelope: Envelope,
  ): Promise<Envelope> {
    return this.transport
      .publish(topic, bytes, signal ? { signal, decoded: envelope } : { decoded: envelope })
      .then(() => {
        this.stats.published++;
        return envelope;
      });
  }

  /**
   * Sends already-encoded envelope bytes (a retry sends the same bytes again). The transport keeps
   * call order, so publishes on one topic leave in the order they were made.
   */
  send(
    topic: string,
    bytes: Uint8Array,
    signal?: AbortSignal,
    decoded?: Envelope,
    attempt?: number,
  ): Promise<void> {
    const opts: { signal?: AbortSignal; decoded?: Envelope; attempt?: number } = {};
    if (signal) opts.signal = signal;
    if (decoded) opts.decoded = decoded;
    if (attempt) opts.attempt = attempt;
    return this.transport.publish(topic, bytes, opts).then(() => {
      this.stats.published++;
    });
  }

  /** The smoothed time commands' answers have taken (ms); sets the outbox's first re-send. */
  private answerMs: number | undefined;
  private readonly statusSubs = new Map<
    string,
    Promise<{ sub: PlaneSubscription; waiting: Map<string, (answer: CborValue) => void> }>
  >();

  /**
   * The outbox (DESIGN §6): publishes a command on `topic` and resolves with the answer whose `re`
   * is its message id on `statusTopic`, re-sending the same envelope (same id, so receivers see a
   * duplicate, never a second command) with backoff until the answer comes or `signal` aborts.
   * The first re-send waits `firstRetryMs` (250) or 3x the smoothed time answers have been
   * taking, whichever is longer: re-sending to a kernel that is merely busy only adds to its
   * queue (measured: half of all publishes were re-sends at 1k patches/s on a loaded machine).
   */
  async command(
    topic: string,
    payload: CborValue,
    opts: { statusTopic: string; signal?: AbortSignal; firstRetryMs?: number; maxRetryMs?: number },
  ): Promise<CborValue> {
    if (this.closed) throw new PlaneClosedError('the plane is closed');
    opts.signal?.throwIfAborted();
    const status = await this.statusFor(opts.statusTopic);
    let { envelope, bytes, sent: first } = await this.sendNow(topic, payload, opts.signal);
    const id = messageIdHex(envelope);
    const max = opts.maxRetryMs ?? 4000;
    const started = performance.now();
    return new Promise<CborValue>((resolve, reject) => {
      let delay = Math.min(max, Math.max(opts.firstRetryMs ?? 250, 3 * (this.answerMs ?? 0)));
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        status.waiting.delete(id);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(opts.signal!.reason);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      status.waiting.set(id, (answer) => {
        finish();
        const took = performance.now() - started;
        this.answerMs = this.answerMs === undefined ? took : 0.875 * this.answerMs + 0.125 * took;
        resolve(answer);
      });
      let attempts = 0;
      const attempt = (): void => {
        if (!status.waiting.has(id)) return;
        // still retrying when half its validity is gone: the same message (id, seq) with a new
        // expiry, so a late copy is still a duplicate of it and never a second command
        if (envelope.exp !== undefined && envelope.exp - Date.now() < this.ttlMs / 2)
          ({ envelope, bytes } = this.renew(envelope));
        const sending =
          attempts === 0 ? first : this.send(topic, bytes, opts.signal, envelope, attempts);
        attempts++;
        sending.catch((e: unknown) => {
          // refused for good (the ACL, a bad message): retrying cannot help
          const code = (e as { codeName?: string }).codeName;
          if (code === 'E_ACCESS_DENIED' || code === 'E_BAD_PAYLOAD') {
            finish();
            reject(e);
            return;
          }
          debug('command %s on %s not sent (will retry): %o', id, topic, e);
        });
        timer = setTimeout(attempt, delay);
        delay = Math.min(delay * 2, max);
      };
      attempt();
    });
  }

  private statusFor(
    statusTopic: string,
  ): Promise<{ sub: PlaneSubscription; waiting: Map<string, (answer: CborValue) => void> }> {
    let s = this.statusSubs.get(statusTopic);
    if (s === undefined) {
      const waiting = new Map<string, (answer: CborValue) => void>();
      const re = (payload: CborValue): unknown => (payload as { re?: unknown } | null)?.re;
      s = this.subscribe(
        statusTopic,
        (m) => {
          const r = re(m.payload);
          if (typeof r === 'string') waiting.get(r)?.(m.payload);
        },
        // answers to other publishers' commands are dropped before their signatures are checked
        { ordered: false, filter: (e) => waiting.has(re(e.payload) as string) },
      ).then((sub) => ({ sub, waiting }));
      this.statusSubs.set(statusTopic, s);
      s.catch(() => this.statusSubs.delete(statusTopic));
    }
    return s;
  }

  /** Subscribes to `pattern` as an async iterator of verified, ordered messages. */
  subscribe(pattern: string, opts?: PlaneSubscribeOptions): Promise<PlaneSubscription>;
  /**
   * Subscribes with a callback: each message is acknowledged when the callback's promise settles,
   * except when it fails while the subscription is closing (then the group's next member gets it).
   */
  subscribe(
    pattern: string,
    handler: (m: Message) => unknown,
    opts?: PlaneSubscribeOptions,
  ): Promise<PlaneSubscription>;
  async subscribe(
    pattern: string,
    a?: PlaneSubscribeOptions | ((m: Message) => unknown),
    b?: PlaneSubscribeOptions,
  ): Promise<PlaneSubscription> {
    if (this.closed) throw new PlaneClosedError('the plane is closed');
    const handler = typeof a === 'function' ? a : undefined;
    const opts = (typeof a === 'function' ? b : a) ?? {};
    const max = opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!Number.isSafeInteger(max) || max < 0)
      throw new PlaneOptionError(
        `maxDeliveries is a whole number ≥ 0 (0: never), not ${String(max)}`,
        {
          pattern,
        },
      );
    if (opts.deadLetterTopic !== undefined) checkTopic(opts.deadLetterTopic);
    const conc = opts.concurrency ?? 1;
    if (!Number.isSafeInteger(conc) || conc < 1)
      throw new PlaneOptionError(`concurrency is a whole number ≥ 1, not ${String(conc)}`, {
        pattern,
      });
    if (opts.filter !== undefined && opts.ordered !== false)
      throw new PlaneOptionError(
        'a filter leaves holes in (topic, sender) streams, which cannot then be put in order: pass ordered: false with it',
        { pattern },
      );
    const t = await this.transport.subscribe(pattern, opts);
    const s = new PlaneSub(this, t, opts, (x) => this.subs.delete(x));
    this.subs.add(s);
    if (handler !== undefined) void (conc > 1 ? s.runConcurrent(handler, conc) : s.run(handler));
    return s;
  }

  /**
   * @internal the checks of DESIGN §6 for one delivery: the message, or why it was dropped, or
   * undefined when `screen` (run before the costly signature check) skipped it.
   */
  check(
    d: Delivery,
    screen?: (e: Envelope) => 'duplicate' | 'skip' | undefined,
    decoded?: Envelope,
  ): Delivered | Rejection | undefined | Promise<Delivered | Rejection> {
    let e: Envelope;
    try {
      e = decoded ?? d.decoded ?? decodeEnvelope(d.data);
    } catch (err) {
      return { reason: 'malformed', topic: d.topic, detail: (err as Error).message };
    }
    if (e.topic !== d.topic)
      return { reason: 'wrong-topic', ...whoOf(d, e), detail: `signed for ${e.topic}` };
    if (isKernelTopic(d.topic) && e.sender !== KERNEL_AGENT)
      return { reason: 'not-kernel', ...whoOf(d, e) };
    if (e.exp !== undefined || this.opts.requireExpiry === true) {
      const why = expiryProblem(e.exp, Date.now());
      if (why !== undefined) return { reason: 'expired', ...whoOf(d, e), detail: why };
    }
    const s = screen?.(e);
    if (s === 'skip') return undefined;
    if (s === 'duplicate') return { reason: 'duplicate', ...whoOf(d, e) };
    const v =
      this.opts.verifier === undefined
        ? 'unsigned'
        : checkSignature(e, this.opts.verifier, this.batches);
    if (v === 'unsigned') {
      if (this.requireSigs) return { reason: 'unsigned', ...whoOf(d, e) };
    } else if (v !== 'ok') return { reason: v, ...whoOf(d, e) };
    const no = this.opts.authorize?.(e.sender, d.topic, d.size ?? d.data.length);
    if (no instanceof Promise)
      return no.then(
        (r) => this.authorized(e, d, r),
        (err: unknown) =>
          this.authorized(e, d, { refuse: 'denied', detail: `cannot decide: ${String(err)}` }),
      );
    return this.authorized(e, d, no);
  }

  private authorized(e: Envelope, d: Delivery, no: Refusal | undefined): Delivered | Rejection {
    if (no !== undefined) return { reason: no.refuse, ...whoOf(d, e), detail: no.detail };
    if (e.ts > this.clock) this.clock = e.ts;
    return new Delivered(e, d);
  }

  /** @internal */
  reject(r: Rejection): void {
    this.stats.rejected[r.reason]++;
    debug('dropped a message on %s: %s %s', r.topic, r.reason, r.detail ?? '');
    for (const f of this.rejectListeners) f(r);
  }

  /** @internal */
  gap(g: Gap): void {
    this.stats.gaps++;
    debug('gap on %s from %s: seq %d..%d never arrived', g.topic, g.sender, g.from, g.to);
    for (const f of this.gapListeners) f(g);
  }

  get options(): PlaneOptions {
    return this.opts;
  }

  /** Closes every subscription and the transport. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(); // what was published before close leaves before it
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.close()));
    await this.transport.close();
  }
}

/** A message as delivered: its id's hex is made only if someone asks for it. */
class Delivered implements Message {
  readonly envelope: Envelope;
  private readonly d: Delivery;
  private hex: string | undefined;

  constructor(e: Envelope, d: Delivery) {
    this.envelope = e;
    this.d = d;
  }

  get topic(): string {
    return this.d.topic;
  }
  get sender(): string {
    return this.envelope.sender;
  }
  get payload(): CborValue {
    return this.envelope.payload;
  }
  get id(): string {
    this.hex ??= messageIdHex(this.envelope);
    return this.hex;
  }
  get redelivered(): boolean {
    return this.d.redelivered;
  }
  get deliveries(): number | undefined {
    return this.d.deliveries;
  }
  /** The envelope's bytes as delivered. */
  get data(): Uint8Array {
    return this.d.data;
  }
  /** Past its delivery limit: goes to the dead-letter topic, in its turn, instead of out. */
  dead = false;
  ack(): void {
    this.d.ack();
  }
}

/**
 * Deliveries a subscription checks (a signature each) that give nothing out (refused, or held
 * for an earlier `seq`) before it lets the event loop in. Messages given out are paced by the
 * callback loops (`run`, `runConcurrent`).
 */
const CHECKS_PER_TURN = 16;

/** How long a callback loop runs messages already at hand before it lets I/O in (ms). */
const TURN_MS = 2;

const senderHashes = new Map<string, number>();

/** A 32-bit hash of a sender id (FNV-1a), cached. */
function senderHash(sender: string): number {
  let h = senderHashes.get(sender);
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < sender.length; i++) h = Math.imul(h ^ sender.charCodeAt(i), 0x01000193);
    if (senderHashes.size > 65536) senderHashes.clear();
    senderHashes.set(sender, h);
  }
  return h;
}

/** One plane subscription: the checks, duplicate window and reorder buffers over a transport one. */
class PlaneSub implements PlaneSubscription {
  private readonly plane: Plane;
  private readonly t: TransportSubscription;
  private readonly seen: RecentPairs;
  private readonly streams = new Map<string, Reorder<Delivered>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onClose: (s: PlaneSub) => void;
  private readonly maxDeliveries: number;
  private readonly deadTopic: string | undefined;
  private readonly group: string | null;
  private readonly ordered: boolean;
  private readonly filter: ((e: Envelope) => boolean) | undefined;
  private readonly fair: boolean;
  /** Deliveries checked that gave nothing out since the event loop last had a turn. */
  private checks = 0;
  /** Deliveries whose `authorize` answer is awaited. */
  private deciding = 0;
  /** The (topic, sender) stream the last message came in on, and its reorder buffer. */
  private lastTopic: string | undefined;
  private lastSender: string | undefined;
  private lastKey = '';
  private lastStream: Reorder<Delivered> | undefined;

  /** Lets the event loop in (I/O, timers), and starts a new budget of checks. */
  private async breathe(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.checks = 0;
  }
  /** Fair mode: deliveries not checked yet, queued by claimed sender. */
  private readonly waiting = new RoundRobin<[Delivery, Envelope]>();
  /** The duplicate key of the delivery being checked. */
  private keyHi = 0;
  private keyLo = 0;
  private readonly screen = (e: Envelope): 'duplicate' | 'skip' | undefined => {
    if (this.filter !== undefined && !this.filter(e)) return 'skip';
    // the duplicate key: 63 bits of the random id, the first half mixed with the sender; a
    // duplicate of a message verified and delivered before needs no second verification
    const id = e.id;
    this.keyHi = (id[0]! | (id[1]! << 8) | (id[2]! << 16) | (id[3]! << 24)) ^ senderHash(e.sender);
    this.keyLo = id[4]! | (id[5]! << 8) | (id[6]! << 16) | ((id[7]! & 0x7f) << 24);
    return this.seen.has(this.keyHi, this.keyLo) ? 'duplicate' : undefined;
  };
  private out: Message[] = [];
  private outHead = 0;
  private readonly source: AsyncIterator<Delivery>;
  private closed = false;
  private last: Message | undefined;
  private wake: (() => void) | undefined;
  private pending: Promise<IteratorResult<Delivery>> | undefined;
  private shut = false;

  constructor(
    plane: Plane,
    t: TransportSubscription,
    opts: PlaneSubscribeOptions,
    onClose: (s: PlaneSub) => void,
  ) {
    this.plane = plane;
    this.t = t;
    this.onClose = onClose;
    this.maxDeliveries = opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.deadTopic = opts.deadLetterTopic;
    this.group = opts.group ?? null;
    this.ordered = opts.ordered ?? true;
    this.filter = opts.filter;
    this.fair = opts.fair ?? false;
    this.seen = new RecentPairs(plane.options.dedupWindow ?? 16384);
    this.source = t[Symbol.asyncIterator]();
  }

  get pattern(): string {
    return this.t.pattern;
  }

  /** A delivery from the transport: checked now, or (fair) queued by sender for its turn. */
  private take(d: Delivery): void {
    if (!this.fair) {
      this.admit(d);
      return;
    }
    let e: Envelope;
    try {
      e = d.decoded ?? decodeEnvelope(d.data);
    } catch {
      this.admit(d); // refused as malformed, at once
      return;
    }
    this.waiting.push(e.sender, [d, e]);
  }

  /** Takes one delivery through the checks, the duplicate window and the reorder buffer. */
  private admit(d: Delivery, decoded?: Envelope): void {
    const out = this.out.length;
    this.admitOne(d, decoded);
    if (this.out.length === out) this.checks++; // nothing given out (see CHECKS_PER_TURN)
  }

  private admitOne(d: Delivery, decoded?: Envelope): void {
    const m = this.plane.check(d, this.screen, decoded);
    if (m instanceof Promise) {
      // authorize must learn something first: the rest waits for its answer (the duplicate key
      // is this delivery's, kept before the next check overwrites it)
      const hi = this.keyHi;
      const lo = this.keyLo;
      this.deciding++;
      void m.then((r) => {
        this.deciding--;
        if (this.shut) return; // unacknowledged: the transport hands it out again
        if ('envelope' in r && this.seen.has(hi, lo))
          this.admitChecked(
            d,
            { reason: 'duplicate', topic: r.topic, sender: r.sender, id: r.id },
            hi,
            lo,
          );
        else this.admitChecked(d, r, hi, lo);
        this.wake?.();
      });
      return;
    }
    if (m === undefined) {
      d.ack(); // filtered out
      return;
    }
    this.admitChecked(d, m, this.keyHi, this.keyLo);
  }

  /** A checked delivery through the duplicate window and the reorder buffer. */
  private admitChecked(d: Delivery, m: Delivered | Rejection, hi: number, lo: number): void {
    if (!('envelope' in m)) {
      d.ack();
      this.plane.reject(m);
      return;
    }
    this.seen.add(hi, lo);
    if (this.maxDeliveries > 0 && (m.deliveries ?? 0) > this.maxDeliveries) m.dead = true;
    if (!this.ordered) {
      if (m.dead) this.deadLetter(m);
      else this.out.push(m);
      return;
    }
    // messages mostly come in runs from one (topic, sender) stream: its buffer is kept at hand
    let key: string;
    let r: Reorder<Delivered> | undefined;
    if (m.topic === this.lastTopic && m.sender === this.lastSender) {
      key = this.lastKey;
      r = this.lastStream!;
    } else {
      key = `${m.topic}\u0000${m.sender}`;
      r = this.streams.get(key);
      if (r === undefined) {
        if (this.streams.size >= this.plane.streamsKept) this.forgetIdleStreams();
        r = new Reorder(this.plane.options.reorderBound ?? 256);
        this.streams.set(key, r);
      }
      this.lastTopic = m.topic;
      this.lastSender = m.sender;
      this.lastKey = key;
      this.lastStream = r;
    }
    // the next one with nothing held: out at once (no timer can be pending for this stream)
    if (r.takeNext(m.envelope.seq, m.envelope.ep ?? 0)) {
      if (m.dead) this.deadLetter(m);
      else this.out.push(m);
      return;
    }
    const res = r.offer(m.envelope.seq, m, m.redelivered, m.envelope.ep ?? 0);
    if (res === 'stale') {
      d.ack();
      this.plane.reject({ reason: 'stale', topic: m.topic, sender: m.sender, id: m.id });
      return;
    }
    if (res.late === true) {
      // never delivered here, but behind the stream: out of order rather than lost
      this.plane.stats.late++;
      debug('late message on %s from %s: seq %d', m.topic, m.sender, m.envelope.seq);
    }
    this.release(key, m, r, res);
  }

  /**
   * Forgets every stream that holds nothing (a held message keeps its stream, and its gap timer),
   * all at once so the cost is spread over `streamsKept` new streams.
   */
  private forgetIdleStreams(): void {
    let n = 0;
    for (const [k, r] of this.streams)
      if (r.holding === 0) {
        this.streams.delete(k);
        n++;
      }
    this.plane.stats.streamsForgotten += n;
    this.lastTopic = undefined;
    this.lastSender = undefined;
    this.lastStream = undefined;
  }

  private release(
    key: string,
    m: Delivered,
    r: Reorder<Delivered>,
    res: { out: Delivered[]; gap?: { from: number; to: number } },
  ): void {
    if (res.gap !== undefined) this.plane.gap({ topic: m.topic, sender: m.sender, ...res.gap });
    for (const x of res.out)
      if (x.dead) this.deadLetter(x);
      else this.out.push(x);
    const timer = this.timers.get(key);
    if (r.holding === 0) {
      if (timer !== undefined) clearTimeout(timer);
      this.timers.delete(key);
    } else if (timer === undefined) {
      const t = setTimeout(() => {
        this.timers.delete(key);
        this.release(key, m, r, r.skip());
        this.wake?.();
      }, this.plane.options.gapTimeoutMs ?? 1000);
      this.timers.set(key, t);
    }
  }

  /**
   * Publishes a message past its delivery limit on the dead-letter topic, then acknowledges it;
   * if that publish fails it stays unacknowledged, so it comes back and is tried again.
   */
  private deadLetter(m: Delivered): void {
    this.plane.stats.deadLettered++;
    const letter = {
      topic: m.topic,
      sender: m.sender,
      id: m.id,
      deliveries: m.deliveries ?? 0,
      group: this.group,
      envelope: m.data,
    } satisfies DeadLetter;
    const topic = this.deadTopic ?? deadLetterTopic(m.topic);
    debug(
      'dead letter: %s from %s on %s after %d deliveries',
      m.id,
      m.sender,
      m.topic,
      m.deliveries,
    );
    this.plane.publish(topic, letter).then(
      () => m.ack(),
      (e: unknown) => debug('dead letter %s not published (it will come back): %o', m.id, e),
    );
  }

  /**
   * The next message if one is ready now (checking what the transport already holds). After
   * `CHECKS_PER_TURN` checks that gave nothing out since the event loop last had a turn it stops,
   * and `next` lets the event loop in before going on: such deliveries, arriving one by one from
   * an in-process publisher, would otherwise be checked in one unbroken run of microtasks
   * (measured: 256 signature checks, 40-60 ms, in jitd under a flood).
   */
  private ready(): Message | undefined {
    this.last?.ack();
    this.last = undefined;
    for (;;) {
      if (this.outHead < this.out.length) {
        const m = this.out[this.outHead]!;
        this.out[this.outHead++] = undefined as never;
        if (this.outHead === this.out.length) {
          this.out = [];
          this.outHead = 0;
        }
        this.plane.stats.delivered++;
        this.last = m;
        return m;
      }
      if (this.checks >= CHECKS_PER_TURN) return undefined;
      if (this.fair) {
        if (this.shut) return undefined;
        // all the transport holds now goes to the senders' queues, then one is checked
        if (!this.closed && this.pending === undefined)
          for (let d = this.t.poll?.(); d !== undefined; d = this.t.poll?.()) this.take(d);
        const next = this.waiting.shift();
        if (next === undefined) return undefined;
        this.admit(next[0], next[1]);
      } else {
        if (this.closed || this.pending !== undefined) return undefined;
        const d = this.t.poll?.();
        if (d === undefined) return undefined;
        this.admit(d);
      }
    }
  }

  private async next(): Promise<Message | undefined> {
    for (;;) {
      const now = this.ready();
      if (now !== undefined) return now;
      if (this.checks >= CHECKS_PER_TURN) {
        // checked a run of deliveries that gave nothing out: let I/O in, then go on
        await this.breathe();
        continue;
      }
      if (this.closed) return undefined;
      // wait for a delivery, or for a gap timer to release held messages; a delivery that
      // loses the race is kept for the next turn
      this.pending ??= this.source.next();
      const got =
        this.timers.size > 0 || this.deciding > 0
          ? await Promise.race([
              this.pending,
              new Promise<'timer'>((r) => {
                this.wake = () => r('timer');
              }),
            ])
          : await this.pending;
      this.wake = undefined;
      if (got === 'timer') continue;
      this.pending = undefined;
      if (got.done) {
        this.closed = true;
        continue;
      }
      this.take(got.value);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: async () => {
        const m = await this.next();
        return m === undefined ? { value: undefined, done: true } : { value: m, done: false };
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Runs `handler` on each message; acknowledges each when the handler settles. */
  async run(handler: (m: Message) => unknown): Promise<void> {
    let streak = 0;
    let since = performance.now();
    for (let m = this.ready() ?? (await this.next()); m !== undefined; ) {
      try {
        const r = handler(m);
        if (r instanceof Promise) await r;
      } catch (e) {
        debug('a subscriber callback on %s threw: %o', m.topic, e);
        // closing: leave it unacknowledged, so the group's next member gets it
        if (this.shut) this.last = undefined;
      }
      // messages already at hand are taken without a promise each, until they have held the
      // event loop TURN_MS: then I/O goes first. Counted in time, not messages: an unsigned one
      // costs ~2 µs, a signature check ~120 µs (1,024 of those in a row held jitd's loop for
      // 150 ms under a flood, through the dashboard's subscription to everything)
      if (++streak === 16) {
        streak = 0;
        const now = performance.now();
        if (now - since >= TURN_MS) {
          await this.breathe();
          since = performance.now();
        }
      }
      m = this.ready() ?? (await this.next());
    }
  }

  /**
   * Runs `handler` on up to `limit` messages at once: each is started in delivery order (so
   * what a handler does synchronously happens in that order) and acknowledged when it settles.
   */
  async runConcurrent(handler: (m: Message) => unknown, limit: number): Promise<void> {
    const running = new Set<Promise<void>>();
    let streak = 0;
    for (let m = this.ready() ?? (await this.next()); m !== undefined; ) {
      this.last = undefined; // acknowledged when its own handler settles, not by the next read
      const msg = m;
      const p: Promise<void> = (async () => {
        try {
          await handler(msg);
          msg.ack();
        } catch (e) {
          debug('a subscriber callback on %s threw: %o', msg.topic, e);
          if (!this.shut) msg.ack(); // closing: the group's next member gets it
        }
      })().finally(() => running.delete(p));
      running.add(p);
      if (running.size >= limit) await Promise.race(running);
      // checking (a signature each) is synchronous, and a race over handlers that have settled
      // resolves as a microtask: every 8 messages, let I/O (a WAL sync, another agent's
      // command) in between
      if (++streak === 8) {
        streak = 0;
        await this.breathe();
      }
      m = this.ready() ?? (await this.next());
    }
    await Promise.allSettled(running);
  }

  async close(): Promise<void> {
    if (this.shut) return;
    this.shut = true;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.onClose(this);
    await this.t.close();
  }
}
