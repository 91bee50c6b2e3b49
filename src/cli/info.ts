import { connectCli } from './connect.js';
import { Exit } from './exit-codes.js';
import { type Io, toJson } from './output.js';

export const INFO_HELP = `jit info — what the running kernel holds

Usage: jit info [--home DIR] [--json]

Asks jitd (over <home>/jitd.sock) for its node count, log size, head of main, refs and how it booted,
and how its Message Plane stands: the transport and URL (password hidden), whether it is connected
and what the broker holds for it, and the kernel bridge's counts.
`;

/** The plane's lines: transport and URL; connected or down, with the broker's word; the bridge's counts. */
function planeLines(p: Record<string, unknown>): string {
  const head = `${String(p.transport)} (${String(p.url)})`;
  if (p.connected === undefined) return head;
  const state = p.connected === true ? 'connected' : 'DOWN';
  return (
    `${head}\n           ${state}: ${String(p.health)}\n` +
    `           bridge: ${String(p.published)} published, ${String(p.delivered)} delivered, ` +
    `${String(p.rejected)} rejected, ${String(p.dead_lettered)} dead-lettered, ${String(p.gaps)} gaps`
  );
}

export async function info(io: Io, home: string, json: boolean): Promise<number> {
  const client = await connectCli(home);
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
          `plane      ${plane ? planeLines(plane) : 'unknown'}\n` +
          `dashboard  ${typeof r.dashboard === 'string' ? r.dashboard : 'off'}\n`,
      );
    }
    return Exit.OK;
  } finally {
    await client.close();
  }
}
