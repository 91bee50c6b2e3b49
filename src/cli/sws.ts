import { readFile } from 'node:fs/promises';
import type { CborValue } from '../codec/index.js';
import { agentOf, call, type Obj, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';
import { patchFromJson } from './patch-json.js';

export const SWS_HELP = `jit sws — shadow working sets

Usage:
  jit sws create [--ref BRANCH] [--agent ME] [--delegate AGENT]...   a new SWS on BRANCH (main)
  jit sws list                                    every SWS and its state
  jit sws status ID                               state, base, patches, conflicts, digest
  jit sws read ID PATH                            a file as the SWS sees it (to stdout)
  jit sws diff ID                                 changes against the base
  jit sws patch ID [FILE|-]                       apply a JSON patch (from FILE or stdin)
  jit sws commit ID [-m MESSAGE]                  collapse into a snapshot on the branch
  jit sws discard ID                              drop the SWS (the DAG is untouched)
  jit sws add-member ID AGENT                     let AGENT read and patch it (owner, delegate or admin)
  jit sws remove-member ID AGENT                  and take that back

A JSON patch: {"ops":[{"op":"put","path":"a.txt","content":"text"},
                      {"op":"delete","path":"b.txt"},{"op":"move","from":"c","to":"d"},
                      {"op":"edit","path":"a.txt","base":"<blob id>","hunks":[{"start":0,"end":1,"lines":["new"]}]},
                      {"op":"resolve","path":"a.txt","content":"merged"}]}
"content" may be {"base64": "..."}; "expect": "<blob id>" or null guards an op.
You act as --agent, else $JIT_AGENT, else your login name; only the owner (or a delegate) commits.
Members (owner, delegates, added members) see an SWS; others need an ACL grant (jit acl).
`;

export interface SwsArgs {
  readonly sub: string | undefined;
  readonly args: readonly string[];
  readonly ref?: string;
  readonly agent?: string;
  readonly delegate?: readonly string[];
  readonly message?: string;
}

const short = (id: unknown): string => String(id).slice(0, 12);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function sws(
  io: Io,
  home: string,
  json: boolean,
  a: SwsArgs,
  usage: (t: string) => number,
): Promise<number> {
  const agent = agentOf(a.agent);
  const need = (n: number): boolean => a.args.length === n;
  const out = (v: CborValue, human: string): number => {
    io.out(json ? `${toJson(v)}\n` : human);
    return Exit.OK;
  };
  switch (a.sub) {
    case 'create':
      if (!need(0)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.create', {
          ref: a.ref ?? 'main',
          owner: agent,
          delegates: [...(a.delegate ?? [])],
        });
        return out(r, `${String(r.id)}\n`);
      });
    case 'list':
      if (!need(0)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.list', {});
        const rows = (r.sws as Obj[]).map(
          (s) =>
            `${String(s.id)}  ${String(s.state).padEnd(11)} ${String(s.owner).padEnd(12)} ${String(s.base_ref)}  ${String(s.patches)} patch(es)`,
        );
        return out(r, rows.length === 0 ? 'no working sets\n' : `${rows.join('\n')}\n`);
      });
    case 'status':
      if (!need(1)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const s = await call(c, 'shadow.status', { id: a.args[0]! });
        const conflicts = s.conflicts as string[];
        const findings = (s.annotations ?? []) as Obj[];
        const lines = findings.map((f) => {
          const r = f.range as number[] | null;
          return `  ${String(f.severity).padEnd(7)} ${String(f.path)}${r === null ? '' : `:${r[0]}-${r[1]}`}  ${String(f.message)}  (${String(f.author)})\n`;
        });
        return out(
          s,
          `sws       ${String(s.id)}\nstate     ${String(s.state)}\nowner     ${String(s.owner)}\nbase      ${String(s.base_ref)} @ ${short(s.base_node)}\n` +
            `patches   ${String(s.patches)}\nchanged   ${String(s.changed)} path(s)\nconflicts ${conflicts.length === 0 ? 'none' : conflicts.join(', ')}\n` +
            `findings  ${findings.length === 0 ? 'none' : findings.length}\n${lines.join('')}` +
            `digest    ${String(s.digest)}\n`,
        );
      });
    case 'read':
      if (!need(2)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.read', { id: a.args[0]!, path: a.args[1]! });
        if (json) return out(r, '');
        if (r.kind === 'file') {
          io.out(Buffer.from(r.content as Uint8Array).toString('utf8'));
          return Exit.OK;
        }
        io.err(
          `jit: ${a.args[1]} is ${r.kind === 'dir' ? 'a directory' : r.kind === 'conflict' ? 'conflicted' : 'not there'}\n`,
        );
        return Exit.FOUND_PROBLEM;
      });
    case 'diff':
      if (!need(1)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.diff', { id: a.args[0]! });
        const mark: Record<string, string> = {
          added: 'A',
          modified: 'M',
          deleted: 'D',
          conflict: 'C',
        };
        const rows = (r.changes as Obj[]).map(
          (d) => `${mark[String(d.change)] ?? '?'} ${String(d.path)}`,
        );
        return out(r, rows.length === 0 ? 'no changes\n' : `${rows.join('\n')}\n`);
      });
    case 'patch': {
      if (a.args.length < 1 || a.args.length > 2) return usage(SWS_HELP);
      const src = a.args[1] ?? '-';
      const text = src === '-' ? await readStdin() : await readFile(src, 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        io.err(`jit: the patch is not JSON: ${(e as Error).message}\n`);
        return Exit.USAGE;
      }
      const patch = patchFromJson(parsed, agent);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.apply_patch', { id: a.args[0]!, patch });
        return out(r, `${r.updated ? 'applied' : 'already applied'} ${String(r.patch_id)}\n`);
      });
    }
    case 'commit':
      if (!need(1)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.commit', {
          id: a.args[0]!,
          agent,
          ...(a.message !== undefined ? { message: a.message } : {}),
        });
        return out(
          r,
          `${r.updated ? 'committed' : 'already committed'} ${String(r.snapshot)} on ${String(r.ref)}${r.rewrite ? ' (merged)' : ''}\n`,
        );
      });
    case 'discard':
      if (!need(1)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, 'shadow.discard', { id: a.args[0]!, agent });
        return out(r, `${String(r.state).toLowerCase()}\n`);
      });
    case 'add-member':
    case 'remove-member':
      if (!need(2)) return usage(SWS_HELP);
      return withClient(home, async (c) => {
        const r = await call(c, `shadow.${a.sub === 'add-member' ? 'add' : 'remove'}_member`, {
          id: a.args[0]!,
          agent: a.args[1]!,
        });
        const members = (r.members as string[]).join(', ') || '(none added)';
        return out(r, `${r.updated ? 'updated' : 'unchanged'}; members: ${members}\n`);
      });
    default:
      return usage(SWS_HELP);
  }
}
