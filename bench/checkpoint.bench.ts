import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '../src/kernel/index.js';
import { type GiveWay, noGiveWay } from '../src/util/give-way.js';

export interface CheckpointFigures {
  readonly patches: number;
  readonly nodes: number;
  readonly bytes: number;
  /** Wall time of a checkpoint and the event loop's longest wait during it, ms. */
  readonly paced: { readonly ms: number; readonly stallMs: number };
  /** The same checkpoint made in one go (no pauses): what every checkpoint cost before. */
  readonly unpaced: { readonly ms: number; readonly stallMs: number };
}

/**
 * A checkpoint of a kernel holding `patches` 1 KiB put patches over 8 SWSs (one blob node each),
 * made as `jitd` makes it (in steps that give way every 4 ms) against the same checkpoint made in
 * one go, in the same run: the event loop's longest wait during each, and its wall time. The
 * longest wait is what a checkpoint adds to the kernel's latency while it runs.
 */
export async function checkpointBench(
  patches = 200_000,
  onProgress?: (s: string) => void,
): Promise<CheckpointFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-cp-'));
  const k = await Kernel.open(dir);
  try {
    const swss = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) => (await k.create({ ref: 'main', owner: `a${i}` })).id,
      ),
    );
    const content = new Uint8Array(1024).fill(97);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < patches) {
        const n = next++;
        const c = content.slice();
        new DataView(c.buffer).setUint32(0, n);
        await k.applyPatch(swss[n % 8]!, {
          author: `a${n % 8}`,
          ops: [{ op: 'put', path: `f${n % 1000}`, content: c }],
        } as never);
        if (n % 20_000 === 0) onProgress?.(`built ${n} of ${patches} patches`);
      }
    };
    await Promise.all(Array.from({ length: 256 }, lane));
    let bytes = 0;
    const measure = async (
      pause: GiveWay | undefined,
    ): Promise<{ ms: number; stallMs: number }> => {
      // a timer every millisecond: the longest gap between two of its runs is the longest wait
      let last = performance.now();
      let stallMs = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        stallMs = Math.max(stallMs, now - last);
        last = now;
      }, 1);
      const t = performance.now();
      bytes = (await k.store.checkpoint(pause === undefined ? {} : { pause })).bytes;
      const ms = performance.now() - t;
      clearInterval(tick);
      stallMs = Math.max(stallMs, performance.now() - last);
      return { ms, stallMs };
    };
    const paced: { ms: number; stallMs: number }[] = [];
    const unpaced: { ms: number; stallMs: number }[] = [];
    for (let round = 0; round < 3; round++) {
      unpaced.push(await measure(noGiveWay));
      paced.push(await measure(undefined));
    }
    // the median round by stall
    const med = (xs: { ms: number; stallMs: number }[]) =>
      [...xs].sort((a, b) => a.stallMs - b.stallMs)[Math.floor(xs.length / 2)]!;
    return {
      patches,
      nodes: k.store.reader.size,
      bytes,
      paced: med(paced),
      unpaced: med(unpaced),
    };
  } finally {
    await k.close();
    await rm(dir, { recursive: true, force: true });
  }
}
