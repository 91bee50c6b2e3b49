import { JitError } from '../errors/index.js';

/** What was given is not a packet at all (not a map, not JSON, not CBOR). */
export class PacketInputError extends JitError {
  override readonly name = 'PacketInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A packet the validator finds errors in; `details.codes` lists their codes. */
export class PacketInvalidError extends JitError {
  override readonly name = 'PacketInvalidError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A packet whose verification failed: `details.reason` says which check (docs/JITNA.md). */
export class PacketRefusedError extends JitError {
  override readonly name = 'PacketRefusedError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** Stream chunks that do not reassemble (a missing, repeated, changed or extra chunk). */
export class StreamError extends JitError {
  override readonly name = 'StreamError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}
