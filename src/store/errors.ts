import { JitError } from '../errors/index.js';

/** No ref by that name. */
export class RefNotFoundError extends JitError {
  override readonly name = 'RefNotFoundError';
  readonly codeName = 'E_NOT_FOUND' as const;
}

/** The ref update breaks a ref rule (tags never move, kinds never change, a stale `expect`). */
export class RefConflictError extends JitError {
  override readonly name = 'RefConflictError';
  readonly codeName = 'E_REF_CONFLICT' as const;
}

/** The ref name or target is malformed. */
export class RefInputError extends JitError {
  override readonly name = 'RefInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** Another live process holds the data directory. */
export class StoreLockedError extends JitError {
  override readonly name = 'StoreLockedError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}

/** A record that verifies byte-wise could not be replayed (its meaning breaks a rule). */
export class WalReplayError extends JitError {
  override readonly name = 'WalReplayError';
  readonly codeName = 'E_INVARIANT_VIOLATION' as const;
}

/** The store was closed, or failed and must be reopened. */
export class StoreClosedError extends JitError {
  override readonly name = 'StoreClosedError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}
