import { spawn } from 'node:child_process';
import { verify } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CborValue } from '../src/codec/index.js';
import { startJitd } from '../src/daemon/jitd.js';
import { limitsPath } from '../src/daemon/limits-file.js';
import {
  adminSigner,
  KeyPair,
  keySigner,
  publicKeyObject,
  staticVerifier,
} from '../src/identity/index.js';
import {
  DEFAULT_BATCH,
  MemoryBroker,
  NativeTransport,
  Plane,
  signingBytes,
} from '../src/mp/index.js';
import { RpcClient } from '../src/rpc/index.js';
import { Agent } from '../src/sdk/index.js';
import { socketPath } from '../src/util/home.js';
import { registerAgents } from '../test/helpers/agents.js';
import { openLoop, quantile, rate } from './harness.js';
import { jitdBin, startChild, stop } from './kernel.bench.js';
import { benchPayload, planeLatency, planeThroughput } from './plane-loops.js';

export interface PlaneFigure {
  readonly name: string;
  readonly perSec: number;
  readonly baselineName: string;
  readonly baselinePerSec: number;
}

/**
 * Publishes `n` messages on one topic and waits until the consumer has had them all; msgs/s.
 * `presigned`: the envelopes are built and signed before the clock starts, so the figure is the
 * delivery side alone (decode, verify, dedup, order) against the raw verify rate.
 */
async function throughput(
  signed: boolean,
  n: number,
  presigned = false,
  batch = 1,
): Promise<number> {
  const [p, c] = await memoryPair(signed, batch);
  const ready = presigned
    ? Array.from({ length: n }, (_, i) => p.envelope('bench.t', benchPayload(i)).bytes)
    : undefined;
  return planeThroughput(p, c, n, ready ? (i) => p.send('bench.t', ready[i]!) : undefined);
}

/** A publisher and a subscriber plane on one memory broker, signed (batch: see PlaneOptions) or not. */
async function memoryPair(signed: boolean, batch: number): Promise<[Plane, Plane]> {
  const broker = new MemoryBroker();
  const key = KeyPair.generate();
  const verifier = signed ? staticVerifier([['pub', key.publicKey]]) : undefined;
  const p = await Plane.open({
    transport: broker.connect(),
    sender: 'pub',
    ...(signed ? { signer: keySigner('pub', key), batch } : {}),
  });
  const c = await Plane.open({
    transport: broker.connect(),
    sender: 'sub',
    ...(verifier ? { verifier } : {}),
  });
  return [p, c];
}

/** p99 publish→deliver latency (ms) on the in-process plane at `rate`/s. */
async function latencyP99(signed: boolean, rate: number, ms: number): Promise<number> {
  const [p, c] = await memoryPair(signed, DEFAULT_BATCH);
  return quantile(await planeLatency(p, c, rate, ms), 0.99);
}

/** The in-process plane, unsigned and signed, with their same-run baselines. */
export async function planeBenches(): Promise<PlaneFigure[]> {
  // baseline for signed: raw node:crypto Ed25519 verify of the same bytes an envelope signs
  const key = KeyPair.generate();
  const pub = publicKeyObject(key.publicKey);
  const msg = signingBytes({
    v: 1,
    id: new Uint8Array(16),
    sender: 'pub',
    ts: 1,
    seq: 1,
    topic: 'bench.t',
    payload: benchPayload(1),
  });
  const sig = key.sign(msg);
  const rounds = 3;
  const unsigned: number[] = [];
  const signed: number[] = [];
  const received: number[] = [];
  const verifies: number[] = [];
  const batched: number[] = [];
  const ratios: number[] = [];
  await throughput(false, 20_000);
  await throughput(true, 20_000, false, DEFAULT_BATCH);
  for (let r = 0; r < rounds; r++) {
    const u = await throughput(false, 200_000);
    const b = await throughput(true, 200_000, false, DEFAULT_BATCH);
    unsigned.push(u);
    batched.push(b);
    ratios.push(b / u);
    signed.push(await throughput(true, 20_000));
    received.push(await throughput(true, 20_000, true));
    verifies.push(rate(() => verify(null, msg, pub, sig), 300));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    {
      name: 'in-process plane, unsigned, publish -> deliver',
      perSec: med(unsigned),
      baselineName: 'goal 500k/s',
      baselinePerSec: 500_000,
    },
    {
      name: `in-process plane, signed in batches (up to ${DEFAULT_BATCH} a signature) and verified (goal >= 0.5x unsigned; median ratio of ${rounds} paired runs ${med(ratios).toFixed(2)}x)`,
      perSec: med(batched),
      baselineName: 'unsigned, same run',
      baselinePerSec: med(unsigned),
    },
    {
      name: 'in-process plane, pre-signed envelopes, verified per message (delivery side)',
      perSec: med(received),
      baselineName: 'raw node:crypto Ed25519 verify',
      baselinePerSec: med(verifies),
    },
    {
      name: 'in-process plane, signed and verified per message (both on one thread)',
      perSec: med(signed),
      baselineName: 'raw node:crypto Ed25519 verify',
      baselinePerSec: med(verifies),
    },
  ];
}

/**
 * The latency batch signing adds: p99 publish→deliver on the in-process plane at `rate`/s, signed
 * in batches (signature and verification on the one thread) and unsigned, medians of 3 rounds.
 */
export async function batchLatencyBench(
  rate = 10_000,
  ms = 2000,
): Promise<{ unsigned: number; batched: number }> {
  const u: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 3; r++) {
    u.push(await latencyP99(false, rate, ms));
    b.push(await latencyP99(true, rate, ms));
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[1]!;
  return { unsigned: med(u), batched: med(b) };
}

/**
 * The native transport between two processes: a publisher child process → jitd's relay → a
 * subscriber in this process (jitd runs in this process too, so three event loops share two
 * cores). Messages/s from subscribing to the last delivery.
 */
export async function nativeBench(n = 100_000): Promise<number> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-native-'));
  const jitd = await startJitd({ home });
  try {
    const c = await Plane.open({
      transport: new NativeTransport(
        { path: socketPath(home) },
        { login: await adminSigner(home) },
      ),
      sender: 'sub',
    });
    let got = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => {
      done = r;
    });
    await c.subscribe('bench.native', () => {
      if (++got === n) done();
    });
    const child = spawn(
      process.execPath,
      [new URL('./native-publisher.js', import.meta.url).pathname, socketPath(home), String(n)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => child.once('exit', r));
    // the clock starts once the publisher is connected and logged in
    await once(createInterface({ input: child.stdout! }), 'line');
    const t0 = performance.now();
    child.stdin!.end('go\n');
    await all;
    const perSec = n / ((performance.now() - t0) / 1000);
    await exited;
    await c.close();
    return perSec;
  } finally {
    await jitd.stop();
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * A patch published on the plane until its status answer, open loop at `rate`/s through jitd (a
 * child process) over the native transport, signed; against the same patches as direct RPC calls
 * (`shadow.apply_patch`) at the same rate in the same run.
 */
export async function planePatchBench(
  rate = 1000,
  ms = 3000,
): Promise<{ p50: number; p99: number; rpcP50: number; rpcP99: number }> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-pp-'));
  // this measures latency, not limits: the bench agent may send 2x the loop's rate (the default,
  // 500 kernel commands a second, is below the 1k/s this offers)
  await writeFile(
    limitsPath(home),
    JSON.stringify({
      agents: { bench: { commands: { rate: 2 * rate, burst: 4 * rate } } },
    }),
  );
  const jitd = await startChild([jitdBin, '--home', home]);
  try {
    const key = KeyPair.generate();
    await registerAgents(home, [['bench', key]]);
    const rpc = await RpcClient.connect(
      { path: socketPath(home) },
      { login: await adminSigner(home) },
    );
    const agent = await Agent.connect({ agent: 'bench', key, plane: socketPath(home) });
    const sws = await agent.openSws();
    const content = new Uint8Array(1024).fill(97);
    let seq = 0;
    const ops = (): CborValue[] => {
      const c = content.slice();
      new DataView(c.buffer).setUint32(0, seq);
      return [{ op: 'put', path: `f${seq++ % 1000}`, content: c }];
    };
    const viaPlane = (): Promise<unknown> => agent.patch(sws, ops());
    const viaRpc = (): Promise<unknown> =>
      rpc.call('shadow.apply_patch', { id: sws, patch: { author: 'bench', ops: ops() } });
    await openLoop(rate, ms / 2, viaPlane); // warm-up
    await openLoop(rate, ms / 2, viaRpc);
    const plane = await openLoop(rate, ms, viaPlane);
    const direct = await openLoop(rate, ms, viaRpc);
    await agent.close();
    await rpc.close();
    return {
      p50: quantile(plane.lat, 0.5),
      p99: quantile(plane.lat, 0.99),
      rpcP50: quantile(direct.lat, 0.5),
      rpcP99: quantile(direct.lat, 0.99),
    };
  } finally {
    await stop(jitd);
    await rm(home, { recursive: true, force: true });
  }
}
