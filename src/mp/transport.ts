import type { Envelope } from './envelope.js';

/**
 * The transport interface (DESIGN §6): what every adapter (memory, native, NATS JetStream, Redis
 * Streams, MQTT) provides. It moves opaque envelope bytes; signing, ordering and deduplication
 * live in the plane above it. The conformance suite in test/mp/conformance.ts runs against every
 * implementation.
 */

export interface Delivery {
  readonly topic: string;
  /** The encoded envelope. */
  readonly data: Uint8Array;
  /**
   * The envelope the bytes encode, when the publisher handed it over in process (the memory
   * transport): the subscriber then skips decoding. Its payload is shared: treat it as read-only.
   */
  readonly decoded?: Envelope;
  /**
   * `data.length`, when the transport can tell it without encoding (the memory transport, for an
   * envelope handed over without its bytes). Undefined: read `data.length`.
   */
  readonly size?: number;
  /** True when this message was handed out before and not acknowledged. */
  readonly redelivered: boolean;
  /**
   * How many times the broker has handed this message out, this time included (1 the first
   * time): the plane's dead-letter policy reads it. Where the broker does not count (MQTT has
   * only a DUP flag) the adapter counts itself; undefined where nobody can, and there the transport
   * declares the "dead-letter" gap.
   */
  readonly deliveries?: number;
  /** Done with it: it will not be delivered again. Idempotent. */
  ack(): void;
}

export interface PublishOptions {
  readonly signal?: AbortSignal;
  /** The envelope the bytes encode, when the publisher has it (see `Delivery.decoded`). */
  readonly decoded?: Envelope;
  /**
   * 1 or more when the same envelope is sent again on purpose (the outbox retrying a command
   * whose answer has not come): a transport that deduplicates by message id (JetStream's
   * `Nats-Msg-Id`) must let it through, or the retry that would draw the lost answer again is
   * swallowed for the whole duplicate window. Receivers drop it as a duplicate themselves.
   */
  readonly attempt?: number;
  /**
   * Who hands the message over (jitd's relay: the logged-in agent of the connection it came on),
   * when that is not the publisher of this connection. A transport that queues for competing
   * consumers may serve publishers in turn by it (the memory broker does); others ignore it.
   */
  readonly from?: string;
}

export interface SubscribeOptions {
  /**
   * A durable consumer name: messages are kept for it while no member is connected, each goes to
   * one member, and what a member did not acknowledge before it went away goes to the next. Without
   * it the subscription is ephemeral: it sees what is published while it exists.
   */
  readonly group?: string;
  /** Deliveries handed out and not yet acknowledged before the transport waits (default 256). */
  readonly maxInFlight?: number;
  readonly signal?: AbortSignal;
}

export interface TransportSubscription extends AsyncIterable<Delivery> {
  readonly pattern: string;
  /** A delivery the subscription already holds, without waiting; optional (a fast path). */
  poll?(): Delivery | undefined;
  /** Stops the subscription; unacknowledged deliveries of a group go back to it. Idempotent. */
  close(): Promise<void>;
}

/** How a transport's connection stands, for `jit info`. */
export interface TransportHealth {
  /** Connected to the broker (or relay) now. */
  readonly connected: boolean;
  /** One line on what the broker holds for the plane (e.g. its stream's length), or why it is down. */
  readonly detail: string;
}

/** What a transport cannot do, with the reason; the conformance suite prints these when it skips. */
export interface TransportGap {
  readonly feature: string;
  readonly reason: string;
}

export interface Transport {
  readonly name: string;
  /** Connects; idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Resolves once the transport has taken the message. When a consumer is slow, this waits
   * (backpressure) rather than buffer without bound; `signal` abandons the wait. Messages
   * published on one connection reach each subscriber in call order.
   */
  publish(topic: string, data: Uint8Array, opts?: PublishOptions): Promise<void>;
  /**
   * Optional, for a transport that keeps messages in process (memory): publishes an envelope as
   * `publish` would publish its bytes, without the bytes, which are encoded only if a receiver
   * asks for them (`Delivery.data`). The plane uses it for unsigned envelopes: nothing else needs
   * their bytes, and encoding them was a quarter of an in-process message's cost.
   */
  publishEnvelope?(topic: string, envelope: Envelope, opts?: PublishOptions): Promise<void>;
  subscribe(pattern: string, opts?: SubscribeOptions): Promise<TransportSubscription>;
  /** Asks the broker how the plane stands; never throws (a failure is `connected: false`). */
  health(opts?: { signal?: AbortSignal }): Promise<TransportHealth>;
  /** Closes every subscription and the connection; idempotent. */
  close(): Promise<void>;
  readonly gaps: readonly TransportGap[];
}
