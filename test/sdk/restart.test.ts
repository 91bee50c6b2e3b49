import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import type { NativeTransport } from '../../src/mp/index.js';
import { RpcClient } from '../../src/rpc/index.js';
import { Agent } from '../../src/sdk/index.js';
import { socketPath } from '../../src/util/home.js';
import { registerAgents } from '../helpers/agents.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-restart-');

describe('jitd restarted under the plane', () => {
  it('8 agents x N patches over native with a restart in the middle: each patch applied exactly once', async () => {
    const perAgent = iterations(1000, 1000);
    const home = await tmp();
    let jitd: Jitd = await startJitd({ home });
    const names = Array.from({ length: 8 }, (_, i) => `agent${i}`);
    const keys = names.map(() => KeyPair.generate());
    await registerAgents(
      home,
      names.map((n, i) => [n, keys[i]!] as const),
    );
    const agents = await Promise.all(
      names.map((agent, i) => Agent.connect({ agent, key: keys[i]!, plane: socketPath(home) })),
    );
    const sws = await agents[0]!.openSws({ delegates: names.slice(1) });
    let done = 0;
    const target = 8 * perAgent;
    let restarted = false;
    const restart = (async () => {
      while (done < target / 3) await new Promise((r) => setTimeout(r, 5));
      await jitd.stop();
      jitd = await startJitd({ home });
      restarted = true;
    })();
    await Promise.all(
      agents.map(async (a, i) => {
        // 4 in flight per agent
        let next = 0;
        const lane = async (): Promise<void> => {
          while (next < perAgent) {
            const k = next++;
            await a.patch(sws, [
              { op: 'put', path: `a${i}/f${k}`, content: new TextEncoder().encode(`${i}:${k}\n`) },
            ]);
            done++;
          }
        };
        await Promise.all([lane(), lane(), lane(), lane()]);
      }),
    );
    await restart;
    assert.ok(restarted);
    const reconnects = agents.map((a) => (a.plane.transport as NativeTransport).connections);
    assert.ok(
      reconnects.every((n) => n >= 2),
      `every agent reconnected (${reconnects})`,
    );
    const check = await RpcClient.connect({ path: socketPath(home) });
    const status = (await check.call('shadow.status', { id: sws })) as { patches: number };
    assert.equal(status.patches, target, 'every patch exactly once');
    const { files } = (await check.call('shadow.files', { id: sws })) as {
      files: Record<string, string>;
    };
    assert.equal(Object.keys(files).length, target);
    await check.close();
    for (const a of agents) await a.close();
    await jitd.stop();
  });
});
