/** `jit` exit codes (documented in `jit help`). */
export const Exit = {
  OK: 0,
  /** The command ran and found a problem (e.g. `wal verify` on a damaged log). */
  FOUND_PROBLEM: 1,
  USAGE: 2,
  /** jitd is not reachable, or the data directory is locked by another process. */
  UNAVAILABLE: 3,
  /** The kernel refused the request (its error is printed). */
  REFUSED: 4,
} as const;
