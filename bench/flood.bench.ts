/**
 * Issue 6: one agent flooding 100k messages must not push another agent's p99 above 2x its
 * unloaded value. jitd runs in a child process with its default limits; an honest agent (this
 * process) sends patch commands at a fixed rate and times each until the kernel's answer, first
 * alone, then while a flooding agent (another child process) publishes 100k patch commands on its
 * own SWS as fast as the relay lets it (signed beforehand: a remote attacker's CPU is not this
 * machine's).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CborValue } from '../src/codec/index.js';
import { adminSigner, KeyPair } from '../src/identity/index.js';
import { RpcClient } from '../src/rpc/index.js';
import { Agent } from '../src/sdk/index.js';
import { socketPath } from '../src/util/home.js';
import { registerAgents } from '../test/helpers/agents.js';
import { openLoop, quantile } from './harness.js';
import { jitdBin, startChild, stop } from './kernel.bench.js';

export interface FloodFigure {
  readonly unloadedP99: number;
  readonly loadedP99: number;
  readonly unloadedP50: number;
  readonly loadedP50: number;
  readonly flood: number;
  /** Publishes the relay took and refused while the honest agent was measured. */
  readonly accepted: number;
  readonly refused: number;
  readonly floodMs: number;
}

export async function floodBench(rate = 100, ms = 8000, flood = 100_000): Promise<FloodFigure> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-flood-'));
  const jitd = await startChild([jitdBin, '--home', home]);
  try {
    const rpc = await RpcClient.connect(
      { path: socketPath(home) },
      { login: await adminSigner(home) },
    );
    const keys = { ann: KeyPair.generate(), eve: KeyPair.generate() };
    await registerAgents(home, Object.entries(keys));
    const eveKey = join(home, 'eve.key');
    await keys.eve.save(eveKey);
    const eveSws = ((await rpc.call('shadow.create', { owner: 'eve' })) as { id: string }).id;
    const ann = await Agent.connect({ agent: 'ann', key: keys.ann, plane: socketPath(home) });
    const sws = await ann.openSws();
    let n = 0;
    const send = (): Promise<unknown> =>
      ann.patch(sws, [
        { op: 'put', path: `a${n % 50}`, content: new Uint8Array([n++ & 255]) },
      ] as CborValue[]);
    await openLoop(rate, ms / 2, send); // warm-up
    const alone = await openLoop(rate, ms, send);
    // the flood, and the honest agent at the same rate while it lasts
    const child = spawn(
      process.execPath,
      [
        new URL('./flood-child.js', import.meta.url).pathname,
        socketPath(home),
        'eve',
        eveKey,
        eveSws,
        String(flood),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    if ((await lines.next()).value !== 'ready') throw new Error('the flooding child did not start');
    const t0 = performance.now();
    child.stdin!.write('go\n');
    const result = lines.next().then((r) => String(r.value));
    const loaded = await openLoop(rate, ms, send);
    // the relay holds a flooding connection off, so the flood can take minutes: stop it here
    child.kill('SIGTERM');
    const [, acc, ref] = (await result).split(' ');
    const floodMs = performance.now() - t0;
    child.stdin!.end();
    await exited;
    await ann.close();
    await rpc.close();
    return {
      unloadedP50: quantile(alone.lat, 0.5),
      unloadedP99: quantile(alone.lat, 0.99),
      loadedP50: quantile(loaded.lat, 0.5),
      loadedP99: quantile(loaded.lat, 0.99),
      flood,
      accepted: Number(acc),
      refused: Number(ref),
      floodMs,
    };
  } finally {
    await stop(jitd);
    await rm(home, { recursive: true, force: true });
  }
}
