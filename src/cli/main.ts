import { parseArgs } from 'node:util';
import { resolveHome } from '../util/home.js';
import { ACL_HELP, acl } from './acl.js';
import { AGENT_HELP, agents, KEYGEN_HELP, keygen } from './agents.js';
import { AUDIT_HELP, audit } from './audit.js';
import { DEMO_HELP, demo } from './demo.js';
import { Exit } from './exit-codes.js';
import { FSCK_HELP, fsck } from './fsck.js';
import { HEAD_HELP, head } from './head.js';
import { LOG_HELP, log, SHOW_HELP, show } from './history.js';
import { INFO_HELP, info } from './info.js';
import { INIT_HELP, init } from './init.js';
import { type Io, processIo, reportError } from './output.js';
import { REF_HELP, refs } from './refs.js';
import { SWS_HELP, sws } from './sws.js';
import { CHECKOUT_HELP, checkout, IMPORT_HELP, importDir } from './tree-io.js';
import { WAL_HELP, walRepair, walVerify } from './wal.js';

export const HELP = `jit — the JIT command line

Usage: jit <command> [options]

Commands:
  init                    make a data directory (main on an empty snapshot)
  info                    what the running kernel holds
  import DIR              a directory becomes a snapshot on a branch
  checkout REF DIR        a snapshot becomes a directory (with a local HEAD)
  head [DIR]              the local HEAD of a checkout
  sws create|list|status|read|diff|patch|commit|discard   shadow working sets
  log [REF]               the history of a branch
  show NODE|REF           one node
  ref list|branch|tag|set|delete                          branches and tags
  keygen                  a new Ed25519 key pair for an agent
  agent list|add|remove   the trust store: which key each agent id signs with
  acl list|allow|deny|remove|check                        who may do what
  audit log|append|verify|replay                          the audit trail (a hash chain in the DAG)
  fsck                    log checksums, invariants, replay equality
  demo                    a JITNA swarm to watch on the dashboard (npm run demo)
  wal verify|repair       check or salvage the write-ahead log (repair: stop jitd first)
  help                    this text

All but init, keygen, fsck and wal talk to a running jitd (npm start); fsck uses it when it is up.
They log in with the data directory's admin key (<home>/keys/admin.key); to act as an agent
instead, set JIT_KEY=<its key file> and JIT_LOGIN=<its id>.

Common options:
  --home DIR    data directory (default: $JIT_HOME, else ./.jit)
  --agent NAME  who you act as (default: $JIT_AGENT, else your login name)
  --json        machine-readable output on stdout
  -h, --help    help for a command

Exit codes: 0 ok, 1 a check found a problem, 2 bad usage, 3 jitd unreachable or the data
directory is locked, 4 the kernel refused the request.
`;

const OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  agent: { type: 'string' },
  ref: { type: 'string' },
  delegate: { type: 'string', multiple: true },
  message: { type: 'string', short: 'm' },
  force: { type: 'boolean' },
  limit: { type: 'string' },
  out: { type: 'string' },
  role: { type: 'string' },
  builtin: { type: 'boolean' },
  'admin-key': { type: 'string' },
  from: { type: 'string' },
  file: { type: 'string' },
  agents: { type: 'string' },
  intents: { type: 'string' },
  stay: { type: 'boolean' },
} as const;

function pick(v: ReturnType<typeof parse>['values']): {
  ref?: string;
  agent?: string;
  delegate?: string[];
  message?: string;
} {
  return {
    ...(v.ref !== undefined ? { ref: v.ref } : {}),
    ...(v.agent !== undefined ? { agent: v.agent } : {}),
    ...(v.delegate !== undefined ? { delegate: v.delegate } : {}),
    ...(v.message !== undefined ? { message: v.message } : {}),
  };
}

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
  const help = (text: string): number => {
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
        return help(HELP);
      case 'init':
        if (values.help) return help(INIT_HELP);
        if (sub !== undefined) return usage(INIT_HELP);
        return await init(io, home, json);
      case 'import':
        if (values.help) return help(IMPORT_HELP);
        if (sub === undefined || rest.length > 0) return usage(IMPORT_HELP);
        return await importDir(
          io,
          home,
          json,
          sub,
          values.ref ?? 'main',
          values.message,
          values.agent,
        );
      case 'checkout':
        if (values.help) return help(CHECKOUT_HELP);
        if (sub === undefined || rest.length !== 1) return usage(CHECKOUT_HELP);
        return await checkout(io, home, json, sub, rest[0]!);
      case 'sws':
        if (values.help) return help(SWS_HELP);
        return await sws(io, home, json, { sub, args: rest, ...pick(values) }, usage);
      case 'ref':
        if (values.help) return help(REF_HELP);
        return await refs(io, home, json, sub, rest, values.force === true, usage);
      case 'log': {
        if (values.help) return help(LOG_HELP);
        if (rest.length > 0) return usage(LOG_HELP);
        const limit = values.limit === undefined ? 50 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1)
          return usage(`--limit takes a positive number\n\n${LOG_HELP}`);
        return await log(io, home, json, sub, limit);
      }
      case 'show':
        if (values.help) return help(SHOW_HELP);
        if (sub === undefined || rest.length > 0) return usage(SHOW_HELP);
        return await show(io, home, json, sub);
      case 'head':
        if (values.help) return help(HEAD_HELP);
        if (rest.length > 0) return usage(HEAD_HELP);
        return await head(io, home, json, sub ?? '.');
      case 'keygen':
        if (values.help) return help(KEYGEN_HELP);
        if (sub !== undefined) return usage(KEYGEN_HELP);
        return await keygen(io, json, values.out, values.force === true);
      case 'agent':
        if (values.help) return help(AGENT_HELP);
        return await agents(
          io,
          home,
          json,
          sub,
          rest,
          {
            ...(values.role !== undefined ? { role: values.role } : {}),
            ...(values['admin-key'] !== undefined ? { adminKey: values['admin-key'] } : {}),
          },
          usage,
        );
      case 'acl':
        if (values.help) return help(ACL_HELP);
        return await acl(
          io,
          home,
          json,
          sub,
          rest,
          {
            ...(values.builtin !== undefined ? { builtin: values.builtin } : {}),
            ...(values.role !== undefined ? { role: values.role } : {}),
          },
          usage,
        );
      case 'audit':
        if (values.help) return help(AUDIT_HELP);
        return await audit(
          io,
          home,
          json,
          sub,
          rest,
          {
            ...(values.from !== undefined ? { from: values.from } : {}),
            ...(values.limit !== undefined ? { limit: values.limit } : {}),
            ...(values.file !== undefined ? { file: values.file } : {}),
          },
          usage,
        );
      case 'demo':
        if (values.help) return help(DEMO_HELP);
        if (sub !== undefined) return usage(`jit demo takes no arguments\n\n${DEMO_HELP}`);
        return await demo(
          io,
          home,
          json,
          {
            ...(values.agents !== undefined ? { agents: values.agents } : {}),
            ...(values.intents !== undefined ? { intents: values.intents } : {}),
            ...(values.stay ? { stay: true } : {}),
          },
          usage,
        );
      case 'fsck':
        if (values.help) return help(FSCK_HELP);
        if (sub !== undefined) return usage(FSCK_HELP);
        return await fsck(io, home, json);
      case 'info':
        if (values.help) return help(INFO_HELP);
        if (sub !== undefined) return usage(`jit info takes no arguments\n\n${INFO_HELP}`);
        return await info(io, home, json);
      case 'wal':
        if (values.help) return help(WAL_HELP);
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
