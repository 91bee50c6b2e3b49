import { ErrorCode, type ErrorCodeName } from './codes.js';

/**
 * The base of every error JIT throws on purpose. Each condition has its own subclass with its own
 * `name` (tests match on it) and a wire `code` from the RFC-0013 table. `cause` is forwarded.
 * `details` holds structured, wire-safe facts (offsets, ids, paths): never key material, never a
 * stack trace.
 */
export abstract class JitError extends Error {
  abstract readonly codeName: ErrorCodeName;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;

  constructor(
    message: string,
    details: Record<string, string | number | boolean | null> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.details = Object.freeze({ ...details });
  }

  /** The numeric wire code of this error (RFC-0013 §6). */
  get code(): number {
    return ErrorCode[this.codeName];
  }

  /** The wire form `{code, name, message, details}` of DESIGN §5. */
  toWire(): {
    code: number;
    name: ErrorCodeName;
    message: string;
    details: Record<string, unknown>;
  } {
    return {
      code: this.code,
      name: this.codeName,
      message: this.message,
      details: { ...this.details, error: this.name },
    };
  }
}
