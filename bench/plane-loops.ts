/**
 * The measuring loops the plane benchmarks share (memory, native, NATS, Redis): a pipelined
 * publisher, publish→deliver throughput between two planes, and publish→deliver latency at a
 * fixed rate.
 */
import type { CborValue } from '../src/codec/index.js';
import { Plane, type Transport } from '../src/mp/index.js';
import { collectGarbage, openLoop } from './harness.js';

/**
 * The 64-character body of every benchmark payload, made once: building the application's data
 * is not the plane's work, and the raw baselines send bytes made once too.
 */
const BODY = 'x'.repeat(64);

/** The payload every plane benchmark publishes (~150-byte envelopes), encoded anew each time. */
export const benchPayload = (i: number): CborValue => ({ i, body: BODY });

/** Calls `send(i)` for i < n with at most `window` calls unanswered at a time. */
export async function pipelined(
  n: number,
  window: number,
  send: (i: number) => Promise<unknown>,
): Promise<void> {
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    inflight.push(send(i));
    if (inflight.length === window) {
      await Promise.all(inflight);
      inflight.length = 0;
    }
  }
  await Promise.all(inflight);
}

/**
 * Messages/s from `pub` to `sub` on one topic: `n` sends (`send`, default a publish of
 * `benchPayload`) paced by `pace` (default: `pipelined` with 512 in flight; it may read how many
 * were delivered so far), until `sub` has had them all. Closes both planes.
 */
export async function planeThroughput(
  pub: Plane,
  sub: Plane,
  n: number,
  send: (i: number) => Promise<unknown> = (i) => pub.publish('bench.t', benchPayload(i)),
  pace: (
    n: number,
    send: (i: number) => Promise<unknown>,
    delivered: () => number,
  ) => Promise<void> = (k, s) => pipelined(k, 512, s),
): Promise<number> {
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  await sub.subscribe('bench.t', () => {
    if (++got === n) done();
  });
  collectGarbage(); // neither side pays for the last round's leftovers
  const t0 = performance.now();
  await pace(n, send, () => got);
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await pub.close();
  await sub.close();
  return perSec;
}

/**
 * Publish→deliver latencies (ms) from `pub` to `sub`, open loop at `rate`/s for `ms` after a
 * warm-up of half that. Closes both planes.
 */
export async function planeLatency(
  pub: Plane,
  sub: Plane,
  rate: number,
  ms: number,
): Promise<number[]> {
  const waiting = new Map<number, () => void>();
  await sub.subscribe('bench.lat', (m) => {
    waiting.get((m.payload as { i: number }).i)?.();
  });
  let i = 0;
  const send = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const k = i++;
      waiting.set(k, () => {
        waiting.delete(k);
        resolve();
      });
      void pub.publish('bench.lat', benchPayload(k));
    });
  await openLoop(rate, ms / 2, send);
  const { lat } = await openLoop(rate, ms, send);
  await pub.close();
  await sub.close();
  return lat;
}

/**
 * Runs `measure` on two planes ('pub' and 'sub'), each on a new connection from `connect` (the
 * loops above close them), then `cleanup` (e.g. deleting the broker's stream).
 */
export async function overTransport<T>(
  connect: () => Transport,
  measure: (pub: Plane, sub: Plane) => Promise<T>,
  cleanup: () => Promise<void> = async () => undefined,
): Promise<T> {
  const result = await measure(
    await Plane.open({ transport: connect(), sender: 'pub' }),
    await Plane.open({ transport: connect(), sender: 'sub' }),
  );
  await cleanup();
  return result;
}
