import { parseArgs } from 'node:util';
import { JitError } from '../errors/index.js';
import { resolveHome } from '../util/home.js';
import { createLogger } from '../util/log.js';
import { startJitd } from './jitd.js';

const HELP = `jitd — the JIT kernel daemon

Usage: jitd [--home DIR] [--tcp PORT] [--plane URL] [--dashboard PORT | --no-dashboard]
            [--dashboard-actions] [--json]

Boots the kernel on a data directory (replaying its write-ahead log), takes the directory's lock
and serves RPC on <home>/jitd.sock until SIGTERM or SIGINT, when it drains, checkpoints and exits.

Options:
  --home DIR   data directory (default: $JIT_HOME, else ./.jit); created if missing
  --tcp PORT   also listen on 127.0.0.1:PORT (0 picks a free port)
  --plane URL  the Message Plane for agents: nats://[user:pass@]host:4222[?stream=S&prefix=P]
               or redis://[user:pass@]host:6379[/db][?stream=KEY] or mqtt://host:1883[?prefix=P]
               (default: jitd relays it over its own socket; also $JIT_PLANE)
  --dashboard PORT     serve the live dashboard and /metrics on 127.0.0.1:PORT (default 7420,
                       or the next free port; 0 picks any free port)
  --no-dashboard       serve neither
  --dashboard-actions  let the dashboard discard working sets (as the CLI's login; read only
                       without it)
  --json       print the start-up line as JSON
  -h, --help   show this help

Logs: structured, on standard error, readable on a terminal and JSON lines otherwise;
JIT_LOG_LEVEL=fatal|error|warn|info|debug|trace|silent (default info), JIT_LOG_FORMAT=json|pretty.
Debug traces of single components: NODE_DEBUG=jitd,jit:plane,… (off by default).

Exit codes: 0 stopped cleanly, 1 failed to start (the message says why), 2 bad usage.
`;

const OPTIONS = {
  home: { type: 'string' },
  tcp: { type: 'string' },
  plane: { type: 'string' },
  dashboard: { type: 'string' },
  'no-dashboard': { type: 'boolean' },
  'dashboard-actions': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, strict: true });
}

/**
 * A closed stdout or stderr (its supervisor gone, `jitd | head -1`) makes every later write fail
 * (EPIPE): that costs the output, never the daemon, whose state is in its data directory.
 */
function survivePipeLoss(stream: NodeJS.WriteStream): void {
  stream.on('error', () => undefined);
}

/** Runs jitd until a signal stops it; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  survivePipeLoss(process.stdout);
  survivePipeLoss(process.stderr);
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`jitd: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const home = resolveHome(args.values.home);
  const tcp = args.values.tcp === undefined ? undefined : Number(args.values.tcp);
  if (tcp !== undefined && (!Number.isInteger(tcp) || tcp < 0 || tcp > 65535)) {
    process.stderr.write(`jitd: --tcp takes a port number, not ${args.values.tcp}\n`);
    return 2;
  }
  const dash = args.values.dashboard === undefined ? undefined : Number(args.values.dashboard);
  if (dash !== undefined && (!Number.isInteger(dash) || dash < 0 || dash > 65535)) {
    process.stderr.write(`jitd: --dashboard takes a port number, not ${args.values.dashboard}\n`);
    return 2;
  }
  if (dash !== undefined && args.values['no-dashboard']) {
    process.stderr.write('jitd: --dashboard and --no-dashboard contradict each other\n');
    return 2;
  }
  let log: ReturnType<typeof createLogger>;
  try {
    log = createLogger();
  } catch (e) {
    process.stderr.write(`jitd: ${(e as Error).message}\n`);
    return 2;
  }
  let lastReport = 0;
  let jitd: Awaited<ReturnType<typeof startJitd>>;
  try {
    jitd = await startJitd({
      home,
      log,
      ...(tcp !== undefined ? { tcpPort: tcp } : {}),
      ...(args.values['no-dashboard']
        ? {}
        : {
            dashboard: {
              ...(dash !== undefined ? { port: dash } : {}),
              ...(args.values['dashboard-actions'] ? { actions: true } : {}),
            },
          }),
      ...((args.values.plane ?? process.env.JIT_PLANE)
        ? { plane: (args.values.plane ?? process.env.JIT_PLANE)! }
        : {}),
      onProgress: (offset, size) => {
        const now = Date.now();
        if (now - lastReport > 500) {
          lastReport = now;
          process.stderr.write(
            `jitd: replaying log ${((100 * offset) / Math.max(1, size)).toFixed(0)}%\r`,
          );
        }
      },
    });
  } catch (e) {
    const msg =
      e instanceof JitError
        ? `${e.name}: ${e.message}`
        : `unexpected error: ${(e as Error).stack ?? String(e)}`;
    process.stderr.write(`jitd: cannot start: ${msg}\n`);
    return 1;
  }
  const s = jitd.kernel.store;
  if (args.values.json) {
    process.stdout.write(
      `${JSON.stringify({ listening: jitd.address, dashboard: jitd.dashboardUrl ?? null, home, nodes: s.reader.size, boot: s.boot })}\n`,
    );
  } else {
    process.stdout.write(
      `jitd listening on ${jitd.address}\n${jitd.dashboardUrl ? `  dashboard ${jitd.dashboardUrl}  (metrics at ${jitd.dashboardUrl}metrics)\n` : ''}  home ${home}\n  ${s.reader.size} nodes, ${s.refs().length} refs; boot ${s.boot.ms.toFixed(0)} ms ` +
        `(checkpoint: ${s.boot.checkpoint}, replayed ${s.boot.replayed} records)\n  try: npm run jit -- info   (stop with Ctrl-C)\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info({ component: 'jitd' }, 'stopping: draining and checkpointing');
  await jitd.stop();
  process.stdout.write('jitd stopped\n');
  return 0;
}
