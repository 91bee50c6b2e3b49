import { RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const INFO_HELP = `jit info — what the running kernel holds

Usage: jit info [--home DIR] [--json]

Asks jitd (over <home>/jitd.sock) for its node count, log size, head of main, refs and how it booted.
`;

export async function info(io: Io, home: string, json: boolean): Promise<number> {
  const client = await RpcClient.connect({ path: socketPath(home) });
  try {
    const r = (await client.call('jit.info', {})) as Record<string, unknown>;
    if (json) io.out(`${toJson({ ok: true, ...r })}\n`);
    else {
      const boot = r.boot as Record<string, unknown>;
      const plane = r.plane as Record<string, unknown> | undefined;
      io.out(
        `home       ${String(r.home)}\nnodes      ${String(r.node_count)}\nlog bytes  ${String(r.dag_size)}\n` +
          `head       ${r.head === null ? '(no main branch yet)' : String(r.head)}\nrefs       ${String(r.refs)}\n` +
          `last ts    ${String(r.last_ts)}\nboot       checkpoint ${String(boot.checkpoint)}, replayed ${String(boot.replayed)} records\n` +
          `plane      ${plane ? `${String(plane.transport)} (${String(plane.url)})` : 'unknown'}\n`,
      );
    }
    return Exit.OK;
  } finally {
    await client.close();
  }
}
