import { JitError } from '../errors/index.js';

/** Why the strict decoder refused its input. Stable strings: tests and callers match on them. */
export type CborDecodeReason =
  | 'empty'
  | 'truncated'
  | 'trailing-bytes'
  | 'indefinite-length'
  | 'reserved-additional-info'
  | 'non-minimal-integer'
  | 'tag'
  | 'simple-value'
  | 'undefined'
  | 'float-width'
  | 'integral-float'
  | 'non-canonical-nan'
  | 'duplicate-key'
  | 'unsorted-keys'
  | 'non-text-key'
  | 'invalid-utf8'
  | 'too-deep'
  | 'too-large';

/** The input is not canonical CBOR as DESIGN §3 defines it. `offset` is where the bad item starts. */
export class CborDecodeError extends JitError {
  override readonly name = 'CborDecodeError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
  readonly offset: number;
  readonly reason: CborDecodeReason;

  constructor(reason: CborDecodeReason, offset: number, message: string) {
    super(`${message} (at byte offset ${offset})`, { reason, offset });
    this.offset = offset;
    this.reason = reason;
  }
}

export type CborEncodeReason =
  | 'undefined'
  | 'unsupported-type'
  | 'integer-out-of-range'
  | 'lone-surrogate'
  | 'too-deep';

/** The value has no canonical CBOR form. `path` names where in the value (`$.a[2].b`). */
export class CborEncodeError extends JitError {
  override readonly name = 'CborEncodeError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
  readonly path: string;
  readonly reason: CborEncodeReason;

  constructor(reason: CborEncodeReason, path: string, message: string) {
    super(`${message} at ${path}`, { reason, path });
    this.path = path;
    this.reason = reason;
  }
}

export type FrameErrorReason =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'unsupported-flags'
  | 'too-large'
  | 'trailing-bytes'
  | 'stream-failed';

/** A JS-ABI frame (DESIGN §5) is malformed. `offset` counts from the start of the input or stream. */
export class FrameError extends JitError {
  override readonly name = 'FrameError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
  readonly offset: number;
  readonly reason: FrameErrorReason;

  constructor(reason: FrameErrorReason, offset: number, message: string) {
    super(`${message} (frame at byte offset ${offset})`, { reason, offset });
    this.offset = offset;
    this.reason = reason;
  }
}

/** A JS-ABI frame's BLAKE3 checksum does not match its header and payload. */
export class FrameChecksumError extends JitError {
  override readonly name = 'FrameChecksumError';
  readonly codeName = 'E_CHECKSUM_FAIL' as const;
  readonly offset: number;

  constructor(offset: number) {
    super(`frame checksum does not match (frame at byte offset ${offset})`, { offset });
    this.offset = offset;
  }
}
