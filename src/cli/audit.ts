import { readFile } from 'node:fs/promises';
import { JitError } from '../errors/index.js';
import { replayAudit } from '../governance/index.js';
import { type AuditEntry, verifyAuditChain } from '../kernel/index.js';
import { type AuditHead, fetchAuditTrail, fetchTrust } from '../sdk/index.js';
import { call, type Obj, withClient } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

/** An audit export file that cannot be read as one (`jit audit log --json` writes them). */
export class AuditExportError extends JitError {
  override readonly name = 'AuditExportError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

export const AUDIT_HELP = `jit audit — the audit trail (a hash chain of entries in the kernel's DAG)

Usage:
  jit audit log [--from N] [--limit N]     the entries, oldest first (--json: the export verify reads)
  jit audit append JSON                   append an event (a JSON map with a "type")
  jit audit verify [--file F]             check the chain: every digest, link and number, up to the
                                          kernel's head; names the first entry altered, removed,
                                          reordered or cut off (--file: an export of audit log --json)
  jit audit replay [--from N] [--file F]  re-run the recorded decisions (intake hash, FDIA gate,
                                          quorum verdict, outcome) and report the first divergence

Each entry is {seq, previous, by, event, digest}: digest is SHA-256 of the canonical CBOR of
{seq, previous, by, event}; previous is the digest before it; jitd signs each digest with the
kernel key, and verify checks that signature too. Exit 1 when verify or replay finds a problem.
`;

type Head = AuditHead;

async function readExport(file: string): Promise<{ entries: AuditEntry[]; head: Head }> {
  const text = await readFile(file, 'utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AuditExportError(
      `${file} is not JSON (an export of jit audit log --json): ${(e as Error).message}`,
    );
  }
  const entries = (v as Obj)?.entries;
  if (!Array.isArray(entries))
    throw new AuditExportError(`${file} has no "entries" list (an export of jit audit log --json)`);
  return {
    entries: entries.map((x) => {
      const { node: _, ...e } = x as AuditEntry & { node?: string };
      return e;
    }),
    head: ((v as Obj).head as Head) ?? null,
  };
}

export async function audit(
  io: Io,
  home: string,
  json: boolean,
  sub: string | undefined,
  args: readonly string[],
  opts: { from?: string; limit?: string; file?: string },
  usage: (t: string) => number,
): Promise<number> {
  const arity: Record<string, number> = { log: 0, append: 1, verify: 0, replay: 0 };
  if (sub === undefined || arity[sub] !== args.length) return usage(AUDIT_HELP);
  for (const [name, v] of [
    ['from', opts.from],
    ['limit', opts.limit],
  ] as const)
    if (v !== undefined && !/^\d+$/.test(v))
      return usage(`--${name} takes a whole number, not ${JSON.stringify(v)}\n\n${AUDIT_HELP}`);
  const from = opts.from === undefined ? undefined : Number(opts.from);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  return withClient(home, async (c) => {
    switch (sub) {
      case 'log': {
        const r = await call(c, 'audit.log', {
          ...(from !== undefined ? { from } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        if (json) io.out(`${toJson(r)}\n`);
        else {
          const entries = r.entries as unknown as AuditEntry[];
          if (entries.length === 0) io.out('no audit entries\n');
          for (const e of entries)
            io.out(
              `${e.seq}\t${e.digest.slice(0, 16)}\t${e.by}\t${String(e.event.type)}\t${toJson(e.event).replace(/\s+/g, ' ')}\n`,
            );
        }
        return Exit.OK;
      }
      case 'append': {
        let event: unknown;
        try {
          event = JSON.parse(args[0]!);
        } catch (e) {
          return usage(`the event is not JSON: ${(e as Error).message}\n\n${AUDIT_HELP}`);
        }
        const r = await call(c, 'audit.append', { event: event as Obj });
        io.out(json ? `${toJson(r)}\n` : `entry ${r.seq} ${r.digest}\n`);
        return Exit.OK;
      }
      case 'verify': {
        const live = await fetchAuditTrail(c, 0);
        const got = opts.file !== undefined ? await readExport(opts.file) : live;
        const v = verifyAuditChain(got.entries, {
          ...(live.head !== null ? { head: live.head } : {}),
          keys: await fetchTrust(c),
        });
        if (json) io.out(`${toJson({ ...v, source: opts.file ?? 'jitd' })}\n`);
        else if (v.ok)
          io.out(
            `audit trail ok: ${v.count} entries, head ${v.head === null ? 'none' : `${v.head.seq} ${v.head.digest}`}\n`,
          );
        else io.out(`audit trail ${v.problem} at entry ${v.seq}: ${v.detail}\n`);
        return v.ok ? Exit.OK : Exit.FOUND_PROBLEM;
      }
      case 'replay': {
        const start = from ?? 0;
        const got =
          opts.file !== undefined ? await readExport(opts.file) : await fetchAuditTrail(c, start);
        const entries = got.entries.filter((e) => e.seq >= start);
        // the chain from the start first: a replay of a changed record proves nothing
        const before =
          start === 0 ? null : (await call(c, 'audit.log', { from: start - 1, limit: 1 })).entries;
        const previous =
          before === null ? null : ((before as unknown as AuditEntry[])[0]?.digest ?? null);
        const trust = await fetchTrust(c);
        const chain = verifyAuditChain(entries, { from: { seq: start, previous }, keys: trust });
        if (!chain.ok) {
          if (json) io.out(`${toJson({ chain })}\n`);
          else io.out(`audit trail ${chain.problem} at entry ${chain.seq}: ${chain.detail}\n`);
          return Exit.FOUND_PROBLEM;
        }
        const r = replayAudit(entries, trust);
        if (json) io.out(`${toJson(r)}\n`);
        else if (r.divergence === undefined)
          io.out(
            `replayed ${r.transactions} transactions in ${r.entries} entries from ${start}: every decision the same\n`,
          );
        else {
          const d = r.divergence;
          io.out(
            `divergence at entry ${d.seq} (transaction ${d.tx}), ${d.decision}: ${d.detail}\n  recorded: ${toJson(d.recorded).replace(/\s+/g, ' ')}\n  replayed: ${toJson(d.replayed).replace(/\s+/g, ' ')}\n`,
          );
        }
        return r.divergence === undefined ? Exit.OK : Exit.FOUND_PROBLEM;
      }
      default:
        return usage(AUDIT_HELP);
    }
  });
}
