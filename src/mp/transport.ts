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
  /** True when this message was handed out before and not acknowledged. */
  readonly redelivered: boolean;
  /** Done with it: it will not be delivered again. Idempotent. */
  ack(): void;
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
  publish(
    topic: string,
    data: Uint8Array,
    opts?: { signal?: AbortSignal; decoded?: Envelope },
  ): Promise<void>;
  subscribe(pattern: string, opts?: SubscribeOptions): Promise<TransportSubscription>;
  /** Closes every subscription and the connection; idempotent. */
  close(): Promise<void>;
  readonly gaps: readonly TransportGap[];
}
