import { ErrorCode, type ErrorCodeName, errorCodeName, JitError } from '../errors/index.js';

/** The request's op is not one this server serves. */
export class InvalidOpError extends JitError {
  override readonly name = 'InvalidOpError';
  readonly codeName = 'E_INVALID_OP' as const;
}

/** The request envelope or its payload is malformed. */
export class BadRequestError extends JitError {
  override readonly name = 'BadRequestError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** An error answered by the server, as the client sees it: the wire code, name and message. */
export class RemoteError extends JitError {
  override readonly name = 'RemoteError';
  readonly codeName: ErrorCodeName;
  readonly remoteName: string;

  constructor(
    code: number,
    message: string,
    details: Record<string, string | number | boolean | null>,
  ) {
    super(message, details);
    this.codeName = errorCodeName(code) ?? 'E_INTERNAL_ERROR';
    this.remoteName = typeof details.error === 'string' ? details.error : this.codeName;
  }
}

/** The connection closed or could not be made. */
export class ConnectionError extends JitError {
  override readonly name = 'ConnectionError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}

export interface WireError {
  readonly code: number;
  readonly name: string;
  readonly message: string;
  readonly details: Record<string, string | number | boolean | null>;
}

/**
 * Any error as it goes on the wire. Our own errors keep their code, message and details; anything
 * else is an internal error whose message says nothing of its insides (no stack, no text).
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof JitError) {
    const w = e.toWire();
    return {
      code: w.code,
      name: w.name,
      message: w.message,
      details: w.details as WireError['details'],
    };
  }
  return {
    code: ErrorCode.E_INTERNAL_ERROR,
    name: 'E_INTERNAL_ERROR',
    message: 'internal error',
    details: {},
  };
}

/** An operation that needs an admin's signature got none, or a wrong one. */
export class AuthError extends JitError {
  override readonly name = 'AuthError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}
