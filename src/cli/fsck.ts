import type { FsckReport } from '../kernel/index.js';
import { Kernel } from '../kernel/index.js';
import { ConnectionError, type RpcClient } from '../rpc/index.js';
import { call, connectCli } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, progress, toJson } from './output.js';

export const FSCK_HELP = `jit fsck — check the kernel's truth

Usage: jit fsck [--home DIR] [--json]

Checks that every record of the log verifies, that replaying the log from empty passes every
invariant, and that the replay rebuilds exactly the DAG, refs and working sets the kernel holds
(same digests). Runs inside jitd when it is up; otherwise opens the data directory itself.
Exit 0 when all checks pass, 1 when one fails.
`;

export async function fsck(io: Io, home: string, json: boolean): Promise<number> {
  let report: FsckReport;
  let client: RpcClient | undefined;
  try {
    client = await connectCli(home);
  } catch (e) {
    if (!(e instanceof ConnectionError)) throw e;
  }
  if (client !== undefined) {
    try {
      report = (await call(client, 'jit.fsck', {})) as unknown as FsckReport;
    } finally {
      await client.close();
    }
  } else {
    const k = await Kernel.open(home, { onProgress: progress(io, 'booting') });
    try {
      report = await k.fsck({ onProgress: progress(io, 'replaying') });
    } finally {
      await k.close();
    }
  }
  if (json) io.out(`${toJson(report)}\n`);
  else {
    for (const c of report.checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
    io.out(report.ok ? `fsck: all checks pass (${report.records} records)\n` : 'fsck: FAILED\n');
  }
  return report.ok ? Exit.OK : Exit.FOUND_PROBLEM;
}
