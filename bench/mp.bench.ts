import { verify } from 'node:crypto';
import { KeyPair, keySigner, publicKeyObject, staticVerifier } from '../src/identity/index.js';
import { MemoryBroker, Plane, signingBytes } from '../src/mp/index.js';
import { rate } from './harness.js';

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
async function throughput(signed: boolean, n: number, presigned = false): Promise<number> {
  const broker = new MemoryBroker();
  const key = KeyPair.generate();
  const verifier = signed ? staticVerifier([['pub', key.publicKey]]) : undefined;
  const p = await Plane.open({
    transport: broker.connect(),
    sender: 'pub',
    ...(signed ? { signer: keySigner('pub', key) } : {}),
  });
  const c = await Plane.open({
    transport: broker.connect(),
    sender: 'sub',
    ...(verifier ? { verifier } : {}),
  });
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  await c.subscribe('bench.t', () => {
    if (++got === n) done();
  });
  const ready = presigned
    ? Array.from({ length: n }, (_, i) => p.envelope('bench.t', { i, body: 'x'.repeat(64) }).bytes)
    : undefined;
  const t0 = performance.now();
  // keep a window of publishes in flight: the plane's backpressure paces the publisher
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    window.push(
      ready ? p.send('bench.t', ready[i]!) : p.publish('bench.t', { i, body: 'x'.repeat(64) }),
    );
    if (window.length === 512) {
      await Promise.all(window);
      window.length = 0;
    }
  }
  await Promise.all(window);
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await p.close();
  await c.close();
  return perSec;
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
    payload: { i: 1, body: 'x'.repeat(64) },
  });
  const sig = key.sign(msg);
  const rounds = 3;
  const unsigned: number[] = [];
  const signed: number[] = [];
  const received: number[] = [];
  const verifies: number[] = [];
  await throughput(false, 20_000);
  for (let r = 0; r < rounds; r++) {
    unsigned.push(await throughput(false, 200_000));
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
