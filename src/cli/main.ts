import { parseArgs } from 'node:util';
import { resolveHome } from '../util/home.js';
import { Exit } from './exit-codes.js';
import { INFO_HELP, info } from './info.js';
import { type Io, processIo, reportError } from './output.js';
import { WAL_HELP, walRepair, walVerify } from './wal.js';

export const HELP = `jit — the JIT command line

Usage: jit <command> [options]

Commands:
  info          what the running kernel holds (needs jitd)
  wal verify    check every record of the write-ahead log
  wal repair    salvage a log that does not boot (stop jitd first)
  help          this text

Common options:
  --home DIR    data directory (default: $JIT_HOME, else ./.jit)
  --json        machine-readable output on stdout
  -h, --help    help for a command

Exit codes: 0 ok, 1 a check found a problem, 2 bad usage, 3 jitd unreachable or the data
directory is locked, 4 the kernel refused the request.
`;

const OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs one `jit` command; returns its exit code. Exported so tests drive the CLI directly. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`jit: ${(e as Error).message}\n\n${HELP}`);
    return Exit.USAGE;
  }
  const { values, positionals } = parsed;
  const [cmd, sub, ...rest] = positionals;
  const json = values.json === true;
  const home = resolveHome(values.home);
  const show = (text: string): number => {
    io.out(text);
    return Exit.OK;
  };
  const usage = (text: string): number => {
    io.err(text);
    return Exit.USAGE;
  };
  try {
    switch (cmd) {
      case undefined:
      case 'help':
        return show(HELP);
      case 'info':
        if (values.help) return show(INFO_HELP);
        if (sub !== undefined) return usage(`jit info takes no arguments\n\n${INFO_HELP}`);
        return await info(io, home, json);
      case 'wal':
        if (values.help) return show(WAL_HELP);
        if (sub === undefined) return usage(WAL_HELP);
        if (rest.length > 0) return usage(`unexpected arguments: ${rest.join(' ')}\n\n${WAL_HELP}`);
        if (sub === 'verify') return await walVerify(io, home, json);
        if (sub === 'repair') return await walRepair(io, home, json);
        return usage(`unknown wal command "${sub}"\n\n${WAL_HELP}`);
      default:
        return usage(`unknown command "${cmd}"\n\n${HELP}`);
    }
  } catch (e) {
    return reportError(io, e, json);
  }
}
