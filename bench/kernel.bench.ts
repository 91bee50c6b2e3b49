import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type CborValue, encode, encodeFrame, FrameReader, fromHex } from '../src/codec/index.js';
import { blobNode, type JitNode, makeNode, nodeId, ROOT_ID, treeNode } from '../src/dag/index.js';
import { adminSigner } from '../src/identity/index.js';
import { Kernel } from '../src/kernel/index.js';
import { RpcClient } from '../src/rpc/index.js';
import { Store } from '../src/store/index.js';
import { socketPath } from '../src/util/home.js';
import { openLoop, quantile } from './harness.js';

const here = new URL('.', import.meta.url).pathname;
export const jitdBin = new URL('../src/bin/jitd.js', import.meta.url).pathname;

export function startChild(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: p.stdout! }).once('line', () => resolve(p));
    p.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}

export async function stop(p: ChildProcess): Promise<void> {
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await gone;
}

export interface PatchFigures {
  readonly clients: number;
  readonly patchesPerSec: number;
  readonly echoPerSec: number;
  readonly rate: number;
  readonly achievedRate: number;
  /** Acknowledgement latency of the open-loop run, ms. */
  readonly p50AtRate: number;
  readonly p99AtRate: number;
  /** The same open loop against the durable echo server, ms. */
  readonly echoP50AtRate: number;
  readonly echoP99AtRate: number;
  /** jitd's WAL group commits during the open loop: all, over 10 ms, and the slowest's bucket. */
  readonly syncsAtRate: {
    readonly all: number;
    readonly over10ms: number;
    readonly slowest: string;
  };
}

/** jitd's WAL sync histogram (cumulative counts by bucket bound), read from its `/metrics`. */
function walSyncBuckets(url: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    httpGet(`${url}metrics`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        const out = new Map<string, number>();
        for (const m of text.matchAll(/^jit_wal_sync_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm))
          out.set(m[1]!, Number(m[2]));
        resolve(out);
      });
    }).on('error', reject);
  });
}

/** The syncs between two readings of {@link walSyncBuckets}. */
function syncsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): PatchFigures['syncsAtRate'] {
  const d = (le: string): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const all = d('+Inf');
  let slowest = 'none';
  let below = 0;
  for (const le of after.keys()) {
    if (d(le) > below) slowest = `<= ${le} s`;
    below = d(le);
  }
  return { all, over10ms: all - d('0.01'), slowest };
}

/** A client of the echo servers: sends one frame, resolves when a frame comes back (in order). */
class EchoClient {
  private readonly reader = new FrameReader();
  private waiting: (() => void)[] = [];

  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      for (const _ of this.reader.push(d)) this.waiting.shift()?.();
    });
  }

  static async connect(path: string): Promise<EchoClient> {
    const s = connect(path);
    await new Promise((r) => s.once('connect', r));
    return new EchoClient(s);
  }

  call(frame: Uint8Array): Promise<void> {
    return new Promise<void>((r) => {
      this.waiting.push(r);
      this.socket.write(frame);
    });
  }

  close(): void {
    this.waiting = [];
    this.socket.destroy();
  }
}

/** Calls per second of `clients` callers, each keeping `window` calls in flight for `ms`. */
async function closedLoop(
  ms: number,
  clients: number,
  window: number,
  call: (client: number) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const lane = async (): Promise<void> => {
        while (performance.now() < end) {
          await call(i);
          done++;
        }
      };
      await Promise.all(Array.from({ length: window }, lane));
    }),
  );
  return done / (ms / 1000);
}

/** Both sides of a closed-loop comparison first run this long uncounted (JIT compilation, caches). */
const WARM_UP_MS = 1000;

/**
 * Durable shadow.apply_patch (one 1 KiB put each) from 8 clients over the Unix socket, each
 * keeping `window` requests in flight (after a warm-up second on each side), against the same
 * clients sending the same frames to a raw framed echo server. Then an open-loop run at `rate`
 * patches/s for acknowledgement latency, against the same open loop on a durable echo server
 * (group commit with O_DSYNC, no kernel), run first: the floor this disk and socket set.
 */
export async function patchBench(ms = 3000, window = 8, rate = 5000): Promise<PatchFigures> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-k-'));
  const content = new Uint8Array(1024).fill(97);
  let seq = 0;
  const patchOf = (sws: string, i: number): CborValue => {
    const n = seq++;
    const c = content.slice();
    new DataView(c.buffer).setUint32(0, n);
    return {
      id: sws,
      patch: { author: `a${i}`, ops: [{ op: 'put', path: `f${n % 1000}`, content: c }] },
    };
  };
  const frameOf = (i: number): Uint8Array =>
    encodeFrame(
      encode({ op: 'shadow.apply_patch', ts: 0, rid: 1, payload: patchOf('00'.repeat(16), i) }),
    );
  let patchesPerSec = 0;
  let open: Awaited<ReturnType<typeof openLoop>>;
  let syncs: PatchFigures['syncsAtRate'];
  // the floor first, on a settled disk: run after the kernel's ~100 MB of writes, its p99 was
  // 3-4x what it is alone, which flattered the kernel's ratio
  const floor = await durableEchoBench(ms, rate, frameOf);
  const jitd = await startChild([jitdBin, '--home', home]);
  const login = await adminSigner(home);
  try {
    const clients = await Promise.all(
      Array.from({ length: 8 }, () => RpcClient.connect({ path: socketPath(home) }, { login })),
    );
    const swss = await Promise.all(
      clients.map(
        async (c, i) =>
          ((await c.call('shadow.create', { ref: 'main', owner: `a${i}` })) as { id: string }).id,
      ),
    );
    // closed loop, `window` in flight per client: a warm-up second (not counted), then `ms`
    const patch = (i: number) => clients[i]!.call('shadow.apply_patch', patchOf(swss[i]!, i));
    await closedLoop(WARM_UP_MS, 8, window, patch);
    patchesPerSec = await closedLoop(ms, 8, window, patch);
    // jitd's own account of its group commits during the open loop (from its dashboard's metrics)
    const url = ((await clients[0]!.call('jit.info', {})) as { dashboard: string }).dashboard;
    const before = await walSyncBuckets(url);
    open = await openLoop(rate, ms, (k) =>
      clients[k % 8]!.call('shadow.apply_patch', patchOf(swss[k % 8]!, k % 8)),
    );
    syncs = syncsBetween(before, await walSyncBuckets(url));
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await stop(jitd);
    await rm(home, { recursive: true, force: true });
  }
  const echoPerSec = await echoBench(ms, window, frameOf);
  return {
    clients: 8,
    patchesPerSec,
    echoPerSec,
    rate,
    achievedRate: open.achievedRate,
    p50AtRate: quantile(open.lat, 0.5),
    p99AtRate: quantile(open.lat, 0.99),
    echoP50AtRate: quantile(floor, 0.5),
    echoP99AtRate: quantile(floor, 0.99),
    syncsAtRate: syncs,
  };
}

/** 8 clients × `window` in flight of patch-sized frames against the raw echo server. */
async function echoBench(
  ms: number,
  window: number,
  frameOf: (i: number) => Uint8Array,
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-echo-'));
  const sock = join(dir, 'echo.sock');
  const echo = await startChild([join(here, 'echo-server.js'), sock]);
  try {
    const clients = await Promise.all(Array.from({ length: 8 }, () => EchoClient.connect(sock)));
    const send = (i: number) => clients[i]!.call(frameOf(i));
    await closedLoop(WARM_UP_MS, 8, window, send);
    const perSec = await closedLoop(ms, 8, window, send);
    for (const c of clients) c.close();
    return perSec;
  } finally {
    await stop(echo);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The open loop of `patchBench` against the durable echo server; the latencies, ms. */
export async function durableEchoBench(
  ms: number,
  rate: number,
  frameOf: (i: number) => Uint8Array,
): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-decho-'));
  const sock = join(dir, 'echo.sock');
  const echo = await startChild([join(here, 'durable-echo-server.js'), sock, join(dir, 'log')]);
  try {
    const clients = await Promise.all(Array.from({ length: 8 }, () => EchoClient.connect(sock)));
    // the same warm-up as the kernel gets from its closed-loop run
    await openLoop(rate, ms / 2, (k) => clients[k % 8]!.call(frameOf(k % 8)));
    const { lat } = await openLoop(rate, ms, (k) => clients[k % 8]!.call(frameOf(k % 8)));
    for (const c of clients) c.close();
    return lat;
  } finally {
    await stop(echo);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One client, one request at a time: handshake round trips against raw echo round trips. */
export async function roundTripBench(
  ms = 2000,
): Promise<{ rpcPerSec: number; echoPerSec: number }> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-rt-'));
  const jitd = await startChild([jitdBin, '--home', home]);
  const login = await adminSigner(home);
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-rte-'));
  const sock = join(dir, 'echo.sock');
  const echo = await startChild([join(here, 'echo-server.js'), sock]);
  try {
    const c = await RpcClient.connect({ path: socketPath(home) }, { login });
    const e = await EchoClient.connect(sock);
    const frame = encodeFrame(encode({ op: 'handshake', ts: 0, rid: 1, payload: {} }));
    const rates = { rpc: [] as number[], echo: [] as number[] };
    for (let round = 0; round < 4; round++) {
      let n = 0;
      let t = performance.now();
      while (performance.now() - t < ms / 4) {
        await c.call('handshake', {});
        n++;
      }
      rates.rpc.push(n / ((performance.now() - t) / 1000));
      n = 0;
      t = performance.now();
      while (performance.now() - t < ms / 4) {
        await e.call(frame);
        n++;
      }
      rates.echo.push(n / ((performance.now() - t) / 1000));
    }
    await c.close();
    e.close();
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return { rpcPerSec: med(rates.rpc), echoPerSec: med(rates.echo) };
  } finally {
    await stop(jitd);
    await stop(echo);
    await rm(home, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Collapse of an SWS changing 100 files on a tree of `files` files, built directly through the
 * store in directories of 1000. The changed files are the same at every size (10 per directory in
 * the first 10 directories): the tree grows by directories the change never touches, so the
 * figure shows whether untouched subtrees cost anything. Median of `reps` collapses.
 */
export async function collapseBench(
  files: number,
  reps = 5,
  onProgress?: (s: string) => void,
): Promise<{ files: number; ms: number }> {
  const home = await mkdtemp(join(tmpdir(), 'jit-bench-c-'));
  try {
    const store = await Store.open(home);
    const perDir = 1000;
    const dirs = Math.max(1, Math.ceil(files / perDir));
    const dirEntries: Record<string, { kind: 'tree'; id: string }> = {};
    for (let d = 0; d < dirs; d++) {
      const entries: Record<string, { kind: 'blob'; id: string }> = {};
      const blobs: JitNode[] = [];
      for (let f = 0; f < Math.min(perDir, files - d * perDir); f++) {
        const b = blobNode(new TextEncoder().encode(`file ${d}/${f}\n`));
        blobs.push(b);
        entries[`f${f}.txt`] = { kind: 'blob', id: nodeId(b) };
      }
      const t = treeNode(entries);
      await store.put([...blobs, t]);
      dirEntries[`d${d}`] = { kind: 'tree', id: nodeId(t) };
      if (d % 100 === 0) onProgress?.(`built ${d * perDir} of ${files} files`);
    }
    const root = treeNode(dirEntries);
    const snap = makeNode(
      'snapshot',
      [ROOT_ID],
      { tree: fromHex(nodeId(root))!, message: 'big', author: 'bench', sws: null, patches: [] },
      () => 0,
    );
    await store.put([root, snap]);
    await store.setRef({ name: 'main', kind: 'branch', target: nodeId(snap) });
    await store.checkpoint();
    await store.close();
    const k = await Kernel.open(home);
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const { id } = await k.create({ ref: 'main', owner: 'bench' });
      const ops = Array.from({ length: 100 }, (_, i) => ({
        op: 'put',
        path: `d${i % 10}/f${(Math.floor(i / 10) * 97 + r) % perDir}.txt`,
        content: new TextEncoder().encode(`changed ${r} ${i}\n`),
      }));
      await k.applyPatch(id, { author: 'bench', ops } as never);
      const t = performance.now();
      await k.commit(id, 'bench');
      times.push(performance.now() - t);
    }
    await k.close();
    times.sort((a, b) => a - b);
    return { files, ms: times[Math.floor(times.length / 2)]! };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
