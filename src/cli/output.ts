import { toJsonText } from '../codec/index.js';
import { JitError } from '../errors/index.js';
import { ConnectionError } from '../rpc/index.js';
import { StoreLockedError } from '../store/index.js';
import { Exit } from './exit-codes.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** True when stderr is a terminal (progress lines are drawn only then). */
  readonly tty: boolean;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: process.stderr.isTTY === true,
};

/** Prints an error (as JSON with --json) and returns its exit code. */
export function reportError(io: Io, e: unknown, json: boolean): number {
  const code =
    e instanceof ConnectionError || e instanceof StoreLockedError
      ? Exit.UNAVAILABLE
      : e instanceof JitError
        ? Exit.REFUSED
        : Exit.FOUND_PROBLEM;
  if (json) {
    const w =
      e instanceof JitError
        ? e.toWire()
        : { code: 500, name: 'E_INTERNAL_ERROR', message: String(e) };
    io.out(`${JSON.stringify({ ok: false, error: w })}\n`);
  } else {
    io.err(`jit: ${e instanceof JitError ? e.message : String(e)}\n`);
  }
  return code;
}

/** A throttled progress line on stderr (only on a terminal). */
export function progress(io: Io, label: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (!io.tty) return;
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    io.err(`${label} ${((100 * done) / Math.max(1, total)).toFixed(0)}%\r`);
  };
}

export function toJson(v: unknown): string {
  return toJsonText(v, 2);
}
