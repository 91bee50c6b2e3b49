import { JitError } from '../errors/index.js';

/** A key file is missing, unreadable, malformed or not an Ed25519 private key. */
export class KeyFileError extends JitError {
  override readonly name = 'KeyFileError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A private key file is readable by others than its owner (it must be 0600). */
export class KeyPermissionError extends JitError {
  override readonly name = 'KeyPermissionError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** An agent id or public key does not have the required form. */
export class IdentityInputError extends JitError {
  override readonly name = 'IdentityInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** The trust store has no agent of this id. */
export class UnknownAgentError extends JitError {
  override readonly name = 'UnknownAgentError';
  readonly codeName = 'E_NOT_FOUND' as const;
}

/** The agent id is already bound to another key (remove it first). */
export class AgentExistsError extends JitError {
  override readonly name = 'AgentExistsError';
  readonly codeName = 'E_CONFLICT' as const;
}

/** The trust store file is damaged or cannot be written. */
export class TrustStoreError extends JitError {
  override readonly name = 'TrustStoreError';
  readonly codeName = 'E_INTERNAL_ERROR' as const;
}
