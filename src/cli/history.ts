import type { CborValue } from '../codec/index.js';
import { call, type Obj, resolveTarget, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const LOG_HELP = `jit log — the history of a branch

Usage: jit log [REF] [--limit N] [--json]

Snapshots from REF (main) back along first parents: id, lamport, author, message.
`;

export const SHOW_HELP = `jit show — one node

Usage: jit show NODE|REF [--json]

A snapshot shows its tree, author, message, SWS and parents; a tree its entries; a blob its size
and, when it is text, its first lines.
`;

const hex = (v: CborValue | undefined): string =>
  v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v);

export async function log(
  io: Io,
  home: string,
  json: boolean,
  ref: string | undefined,
  limit: number,
): Promise<number> {
  return withClient(home, async (c) => {
    let id: string | undefined = await resolveTarget(c, ref ?? 'main');
    const entries: Obj[] = [];
    while (id !== undefined && entries.length < limit) {
      const n = await call(c, 'dag.get_node', { id });
      if (n.type !== 'snapshot') break;
      const p = n.payload as Obj;
      entries.push({
        id,
        lamport: n.lamport ?? 0,
        author: p.author ?? '',
        message: p.message ?? '',
        parents: n.parents ?? [],
      });
      id = (n.parents as string[])[0];
    }
    if (json) io.out(`${toJson({ log: entries })}\n`);
    else
      for (const e of entries)
        io.out(
          `${String(e.id).slice(0, 16)}  ${String(e.lamport).padStart(5)}  ${String(e.author).padEnd(12)} ${String(e.message).split('\n')[0]}\n`,
        );
    return Exit.OK;
  });
}

export async function show(io: Io, home: string, json: boolean, what: string): Promise<number> {
  return withClient(home, async (c) => {
    const id = await resolveTarget(c, what);
    const n = await call(c, 'dag.get_node', { id });
    if (json) {
      io.out(`${toJson(n)}\n`);
      return Exit.OK;
    }
    const lines = [
      `${String(n.type)} ${id}`,
      `lamport ${String(n.lamport)}`,
      `parents ${(n.parents as string[]).join(' ') || '(none)'}`,
    ];
    const p = n.payload;
    if (n.type === 'snapshot') {
      const s = p as Obj;
      lines.push(
        `tree    ${hex(s.tree)}`,
        `author  ${String(s.author)}`,
        `sws     ${s.sws === null ? '-' : hex(s.sws)}`,
        `patches ${(s.patches as unknown[]).length}`,
        '',
        String(s.message),
      );
    } else if (n.type === 'tree') {
      for (const [name, e] of Object.entries(p as Record<string, Obj>).sort(([a], [b]) =>
        a < b ? -1 : 1,
      )) {
        lines.push(`${String(e.kind).padEnd(5)} ${hex(e.id)}  ${name}`);
      }
    } else if (n.type === 'blob') {
      const b = p as Uint8Array;
      const text = b.includes(0) ? undefined : Buffer.from(b).toString('utf8');
      lines.push(`${b.length} bytes${text === undefined ? ' (binary)' : ''}`);
      if (text !== undefined) lines.push('', ...text.split('\n').slice(0, 20));
    } else {
      lines.push(toJson(p));
    }
    io.out(`${lines.join('\n')}\n`);
    return Exit.OK;
  });
}
