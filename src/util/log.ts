import { type LevelWithSilent, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Fields never written, whatever an object holds (keys, signatures, secrets). */
const REDACT = [
  'key',
  'secret',
  'password',
  'private_key',
  'secretKey',
  '*.key',
  '*.secret',
  '*.password',
  '*.private_key',
  '*.secretKey',
];

const LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export interface LogOptions {
  /** @default $JIT_LOG_LEVEL, else `info` */
  readonly level?: string;
  /**
   * `json` (one JSON object a line) or `pretty` (for people). Default: $JIT_LOG_FORMAT, else
   * pretty when the output is a terminal and JSON otherwise.
   */
  readonly format?: 'json' | 'pretty';
  /** Where lines go. @default standard error */
  readonly destination?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
}

/**
 * jitd's structured log: levelled, JSON for machines, readable on a terminal. Each part logs
 * through `root.child({ component })`, so every line names its component. Key material is
 * redacted by field name. Separate from the namespaced debug traces (NODE_DEBUG=jit:*), which
 * stay off by default.
 */
export function createLogger(o: LogOptions = {}): Logger {
  const want = (o.level ?? process.env.JIT_LOG_LEVEL ?? 'info') as LevelWithSilent;
  if (!LEVELS.includes(want))
    throw new TypeError(`JIT_LOG_LEVEL is one of ${LEVELS.join(', ')}, not ${String(want)}`);
  const out = o.destination ?? process.stderr;
  const env = process.env.JIT_LOG_FORMAT;
  const format =
    o.format ?? (env === 'json' || env === 'pretty' ? env : out.isTTY ? 'pretty' : 'json');
  const options = {
    level: want,
    base: {},
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (format === 'pretty')
    return pino(
      options,
      pretty({
        destination: out,
        sync: true,
        colorize: out.isTTY === true,
        ignore: 'pid,hostname,component',
        singleLine: true,
        messageFormat: '{component}: {msg}',
        translateTime: 'SYS:HH:MM:ss.l',
      }),
    );
  return pino(options, out);
}
