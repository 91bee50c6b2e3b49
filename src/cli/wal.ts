import { repairStore, storePaths } from '../store/index.js';
import { scanLog } from '../wal/index.js';
import { Exit } from './exit-codes.js';
import { type Io, progress, toJson } from './output.js';

export const WAL_HELP = `jit wal — inspect and repair the write-ahead log

Usage:
  jit wal verify [--home DIR] [--json]   read the whole log and check every record
  jit wal repair [--home DIR] [--json]   keep the longest prefix that verifies and replays;
                                        set the rest aside in <log>.aside-<offset>

verify reads only and may run beside jitd; it exits 1 when the log has a torn tail or a damaged
record. repair needs the data directory's lock, so stop jitd first; it never deletes bytes.
`;

export async function walVerify(io: Io, home: string, json: boolean): Promise<number> {
  const path = storePaths(home).wal;
  const counts: Record<string, number> = {};
  const r = await scanLog(path, {
    onRecord: (rec) => {
      counts[rec.op] = (counts[rec.op] ?? 0) + 1;
    },
    onProgress: progress(io, 'verifying'),
  });
  const ok = r.tail.kind === 'clean';
  if (json)
    io.out(
      `${toJson({ ok, file: path, records: r.records, bytes: r.size, end: r.end, last_ts: r.lastTs, tail: r.tail, ops: counts })}\n`,
    );
  else {
    io.out(`${path}: ${r.records} records, ${r.size} bytes, last ts ${r.lastTs}\n`);
    if (r.tail.kind === 'clean')
      io.out(
        r.size > r.end
          ? `every record verifies; ${r.size - r.end} bytes of preallocated zeros follow the last\n`
          : 'every record verifies\n',
      );
    else if (r.tail.kind === 'torn')
      io.out(
        `torn tail: ${r.tail.bytes} bytes at offset ${r.tail.offset} (jitd cuts this off at boot)\n`,
      );
    else
      io.out(
        `damaged record at offset ${r.tail.offset} (${r.tail.reason}); run \`jit wal repair\`\n`,
      );
  }
  return ok ? Exit.OK : Exit.FOUND_PROBLEM;
}

export async function walRepair(io: Io, home: string, json: boolean): Promise<number> {
  const r = await repairStore(home, { onProgress: progress(io, 'repairing') });
  if (json) io.out(`${toJson({ ok: true, ...r })}\n`);
  else if (r.setAside === 0) io.out(`${r.file}: nothing to repair (${r.records} records verify)\n`);
  else io.out(`${r.file}: kept ${r.kept} bytes; set ${r.setAside} bytes aside in ${r.asideFile}\n`);
  return Exit.OK;
}
