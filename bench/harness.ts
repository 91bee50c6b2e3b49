/**
 * A tiny benchmark harness. Each figure is measured next to its baseline in the same run: the two
 * are timed in alternating rounds (so a noisy neighbour hits both alike) and the median round of
 * each is reported, with the ratio candidate / baseline.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Rate {
  readonly opsPerSec: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns operations per second. */
export function rate(fn: () => void, ms: number): number {
  let n = 0;
  let batch = 1;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    if (batch < 1 << 16) batch *= 2;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export interface Comparison {
  readonly name: string;
  readonly candidate: number;
  readonly baseline: number;
  readonly ratio: number;
}

/** Alternates `rounds` rounds of candidate and baseline (each `ms` long); medians and ratio. */
export function compare(
  name: string,
  candidate: () => void,
  baseline: () => void,
  opts: { rounds?: number; ms?: number } = {},
): Comparison {
  const rounds = opts.rounds ?? 5;
  const ms = opts.ms ?? 300;
  rate(candidate, 100);
  rate(baseline, 100);
  const c: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    c.push(rate(candidate, ms));
    b.push(rate(baseline, ms));
  }
  const cm = median(c);
  const bm = median(b);
  return { name, candidate: cm, baseline: bm, ratio: cm / bm };
}

export function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M/s`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k/s`;
  return `${x.toFixed(0)}/s`;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0;
}

/**
 * Open loop: `send(k)` is started at `rate`/s for `ms` whatever the answers do, and the latency of
 * each answer recorded. Returns the latencies (ms) and the rate achieved. The loop itself keeps
 * nothing per call but one slot of a preallocated array (no promise is retained), so its own
 * garbage collection does not add to the tail it measures.
 */
export async function openLoop(
  rate: number,
  ms: number,
  send: (k: number) => Promise<unknown>,
): Promise<{ lat: number[]; achievedRate: number }> {
  const total = Math.floor((rate * ms) / 1000);
  const lat = new Float64Array(total);
  let answered = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  let failure: { error: unknown } | undefined;
  const t0 = performance.now();
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    outstanding++;
    send(k).then(
      () => {
        lat[answered++] = performance.now() - sent;
        if (--outstanding === 0) drained?.();
      },
      (e: unknown) => {
        failure ??= { error: e };
        if (--outstanding === 0) drained?.();
      },
    );
  }
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  if (failure) throw failure.error;
  return {
    lat: Array.from(lat.subarray(0, answered)),
    achievedRate: total / ((performance.now() - t0) / 1000),
  };
}

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection now, so that a timed round does not pay for what the round before it
 * left (broker clients, for one, leave megabytes of garbage when they are made). The benches call
 * it before each side of a comparison alike.
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}
