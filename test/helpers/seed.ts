/**
 * Seeded randomness for randomized tests (habit 5). Every randomized test takes its seed from
 * JIT_SEED, or makes one and prints it; a failure message carries the command that replays it.
 */

export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  bytes(n: number): Uint8Array;
  pick<T>(xs: readonly T[]): T;
}

/** sfc32, a small fast PRNG with a 128-bit state, seeded from one 32-bit number. */
export function rng(seed: number): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return {
    seed,
    next,
    int: (n) => Math.floor(next() * n),
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
  };
}

/** The seed for this run: JIT_SEED if set, else a fresh one. */
export function testSeed(): number {
  const env = process.env.JIT_SEED;
  if (env !== undefined && env !== '') return Number(env) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}

/** The line a failure prints so that anyone can replay it. */
export function replayHint(seed: number, filter: string): string {
  return `seed ${seed}; replay: npm run build && JIT_SEED=${seed} node scripts/run-tests.mjs ${filter}`;
}

/** Iteration count: `normal` in the default run, `long` under `npm run test:long`. */
export function iterations(normal: number, long: number): number {
  return process.env.JIT_LONG === '1' ? long : normal;
}
