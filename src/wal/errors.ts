import { JitError } from '../errors/index.js';

export type WalCorruptionReason =
  | 'bad-magic'
  | 'bad-version'
  | 'bad-op'
  | 'bad-checksum'
  | 'bad-length'
  | 'ts-not-increasing';

/**
 * A record before the tail of the log does not verify. Boot stops here rather than skip data that
 * may have been acknowledged; `jit wal repair` salvages the verifying prefix.
 */
export class WalCorruptionError extends JitError {
  override readonly name = 'WalCorruptionError';
  readonly codeName = 'E_CHECKSUM_FAIL' as const;
  readonly file: string;
  readonly offset: number;
  readonly reason: WalCorruptionReason;

  constructor(file: string, offset: number, reason: WalCorruptionReason, message: string) {
    super(
      `${file}: ${message} at byte offset ${offset}; run \`jit wal repair\` to keep the verifying prefix and set the rest aside`,
      {
        file,
        offset,
        reason,
      },
    );
    this.file = file;
    this.offset = offset;
    this.reason = reason;
  }
}

/** An append was refused before anything was written (unknown op, oversized payload). */
export class WalRecordError extends JitError {
  override readonly name = 'WalRecordError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** The log is closed, or failed (a write or sync error poisons it until it is reopened). */
export class WalClosedError extends JitError {
  override readonly name = 'WalClosedError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}
