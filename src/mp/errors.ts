import { JitError } from '../errors/index.js';

/** A topic or pattern is malformed. */
export class TopicError extends JitError {
  override readonly name = 'TopicError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** Bytes that are not a well-formed envelope (DESIGN §6). */
export class EnvelopeError extends JitError {
  override readonly name = 'EnvelopeError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** The plane, transport or subscription is closed. */
export class PlaneClosedError extends JitError {
  override readonly name = 'PlaneClosedError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}

/** A payload is larger than the transport's limit. */
export class PayloadTooLargeError extends JitError {
  override readonly name = 'PayloadTooLargeError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A command on the plane claims to act for someone other than its signed sender. */
export class ImpersonationError extends JitError {
  override readonly name = 'ImpersonationError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** The transport could not be reached or set up (a broker down, a bad URL). */
export class PlaneUnavailableError extends JitError {
  override readonly name = 'PlaneUnavailableError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}

/** A subscribe or open option that is out of range (e.g. a negative `maxDeliveries`). */
export class PlaneOptionError extends JitError {
  override readonly name = 'PlaneOptionError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/**
 * A command refused by its stream's mark (`StreamMarks`): it comes from a plane of its sender
 * older than one the kernel has already taken commands from on that topic, or far behind its
 * stream. Answered, so the sender's outbox stops and its caller learns why.
 */
export class StaleStreamError extends JitError {
  override readonly name = 'StaleStreamError';
  readonly codeName = 'E_STALE_STREAM' as const;
}
