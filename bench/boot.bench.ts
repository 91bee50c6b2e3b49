import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobNode, encodeNode } from '../src/dag/index.js';
import { Store, storePaths } from '../src/store/index.js';

export interface BootFigures {
  readonly nodes: number;
  readonly buildMs: number;
  readonly scan: { ms: number; records: number };
  readonly replay: { ms: number; records: number; rss: number };
  readonly checkpoint: {
    ms: number;
    records: number;
    rss: number;
    rssBefore: number;
    indexBytes: number;
    nodes: number;
  };
}

const child = new URL('./boot-child.js', import.meta.url).pathname;

function runChild(dir: string, mode: string): Record<string, number> {
  const out = execFileSync(process.execPath, [child, dir, mode], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
}

/**
 * Builds a store of `nodes` blob nodes, then boots it three ways in fresh processes: a bare scan
 * of the log (the baseline: read + verify only), a full replay with no checkpoint, and a boot
 * from a checkpoint.
 */
export async function bootBenches(
  nodes: number,
  onProgress?: (s: string) => void,
): Promise<BootFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-boot-'));
  try {
    const t0 = performance.now();
    const store = await Store.open(dir);
    const batch = 10_000;
    const content = new Uint8Array(40);
    const dv = new DataView(content.buffer);
    for (let i = 0; i < nodes; i += batch) {
      const bytes: Uint8Array[] = [];
      for (let j = i; j < Math.min(nodes, i + batch); j++) {
        dv.setUint32(0, j);
        bytes.push(encodeNode(blobNode(content)));
      }
      await store.putBytes(bytes);
      if (i % 100_000 === 0) onProgress?.(`built ${i} of ${nodes} nodes`);
    }
    await store.close();
    const buildMs = performance.now() - t0;
    const scan = runChild(dir, 'scan');
    const replay = runChild(dir, 'open');
    const s = await Store.open(dir);
    await s.checkpoint();
    await s.close();
    const cp = runChild(dir, 'open');
    await unlink(storePaths(dir).checkpoint);
    return {
      nodes,
      buildMs,
      scan: { ms: scan.ms!, records: scan.records! },
      replay: { ms: replay.ms!, records: replay.records!, rss: replay.rss! },
      checkpoint: {
        ms: cp.ms!,
        records: cp.records!,
        rss: cp.rss!,
        rssBefore: cp.rssBefore!,
        indexBytes: cp.indexBytes!,
        nodes: cp.nodes!,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
