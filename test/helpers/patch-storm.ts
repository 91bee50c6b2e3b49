import assert from 'node:assert/strict';
import { startJitd } from '../../src/daemon/jitd.js';
import { adminSigner, KeyPair } from '../../src/identity/index.js';
import { RpcClient } from '../../src/rpc/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from './agents.js';

/**
 * The fault test of issue 5: 8 agents on `plane` each send `perAgent` patches (4 in flight
 * each) to one SWS through jitd's kernel bridge, while `fault` runs once a third of them are
 * acknowledged (a broker restart, a jitd restart...). Asserts every patch took effect exactly
 * once. `fault` may call `restartJitd` (stops jitd, starts it again on the same home and plane).
 */
export async function patchStorm(opts: {
  home: string;
  /** A broker URL; default: jitd's own relay (native). */
  plane?: string;
  perAgent: number;
  fault: (ctx: { restartJitd(): Promise<void> }) => Promise<void>;
  /** More checks on the agents, after the count is checked and before they close. */
  check?: (agents: Agent[]) => void;
}): Promise<void> {
  const { home, perAgent } = opts;
  const jitdOpts = { home, ...(opts.plane !== undefined ? { plane: opts.plane } : {}) };
  const plane = opts.plane ?? socketPath(home);
  let jitd = await startJitd(jitdOpts);
  const restartJitd = async (): Promise<void> => {
    await jitd.stop();
    jitd = await startJitd(jitdOpts);
  };
  try {
    const names = Array.from({ length: 8 }, (_, i) => `agent${i}`);
    const keys = names.map(() => KeyPair.generate());
    await registerAgents(
      home,
      names.map((n, i) => [n, keys[i]!] as const),
    );
    const agents = await Promise.all(
      names.map((agent, i) =>
        Agent.connect({ agent, key: keys[i]!, plane, kernel: socketPath(home) }),
      ),
    );
    const sws = await agents[0]!.openSws({ delegates: names.slice(1) });
    const target = 8 * perAgent;
    let done = 0;
    const fault = (async () => {
      while (done < target / 3) await new Promise((r) => setTimeout(r, 5));
      await opts.fault({ restartJitd });
    })();
    await Promise.all(
      agents.map(async (a, i) => {
        let next = 0;
        const lane = async (): Promise<void> => {
          while (next < perAgent) {
            const k = next++;
            const t0 = Date.now();
            await a.patch(sws, [
              { op: 'put', path: `a${i}/f${k}`, content: new TextEncoder().encode(`${i}:${k}\n`) },
            ]);
            done++;
            // liveness: an answer lost in the fault must be drawn again by the outbox's retries
            // (at most 4 s apart), not wait out a broker's duplicate window (JetStream: 2 min)
            assert.ok(Date.now() - t0 < 60_000, `patch ${i}/${k} took ${Date.now() - t0} ms`);
          }
        };
        await Promise.all([lane(), lane(), lane(), lane()]);
      }),
    );
    await fault;
    const c = await RpcClient.connect(
      { path: socketPath(home) },
      { login: await adminSigner(home) },
    );
    const status = (await c.call('shadow.status', { id: sws })) as { patches: number };
    assert.equal(status.patches, target, 'every patch exactly once');
    const { files } = (await c.call('shadow.files', { id: sws })) as { files: object };
    assert.equal(Object.keys(files).length, target);
    await c.close();
    opts.check?.(agents);
    for (const a of agents) await a.close();
  } finally {
    await jitd.stop();
  }
}
