import type { Io } from '../../src/cli/output.js';

/** An Io that keeps what the CLI prints, for tests that drive `main(argv, io)`. */
export function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    tty: false,
    out: (s: string): void => {
      io.stdout += s;
    },
    err: (s: string): void => {
      io.stderr += s;
    },
  };
  return io;
}
