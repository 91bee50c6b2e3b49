import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../src/codec/index.js';
import { encodeRecord, openLog, WalOp } from '../src/wal/index.js';

export interface WalFigure {
  readonly batch: number;
  readonly walRecordsPerSec: number;
  readonly rawRecordsPerSec: number;
  readonly ratio: number;
  readonly walP99Ms: number;
  readonly rawP99Ms: number;
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

/**
 * Durable append of `batch` records of 256-byte payloads per call, awaited one after another,
 * against a raw loop that writes the same record bytes in the same batches with write + fdatasync
 * through the same async file API. Rounds alternate so disk noise hits both alike.
 */
async function one(dir: string, batch: number, ms: number): Promise<WalFigure> {
  const payload = encode({ pad: new Uint8Array(240), n: 1 });
  const entries = Array.from({ length: batch }, () => ({ op: WalOp.SWS_PATCH, payload }));
  const rawBytes = Buffer.concat(
    Array.from({ length: batch }, (_, i) => encodeRecord(WalOp.SWS_PATCH, i + 1, payload)),
  );
  const wal = { n: 0, t: 0, lat: [] as number[] };
  const raw = { n: 0, t: 0, lat: [] as number[] };
  const { writer } = await openLog(join(dir, `wal-${batch}.log`));
  const fh = await open(join(dir, `raw-${batch}.log`), 'w');
  let rawPos = 0;
  for (let round = 0; round < 6; round++) {
    let t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const s = performance.now();
      await writer.append(entries);
      wal.lat.push(performance.now() - s);
      wal.n += batch;
    }
    wal.t += performance.now() - t0;
    t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const s = performance.now();
      await fh.write(rawBytes, 0, rawBytes.length, rawPos);
      await fh.datasync();
      rawPos += rawBytes.length;
      raw.lat.push(performance.now() - s);
      raw.n += batch;
    }
    raw.t += performance.now() - t0;
  }
  await writer.close();
  await fh.close();
  const w = wal.n / (wal.t / 1000);
  const r = raw.n / (raw.t / 1000);
  return {
    batch,
    walRecordsPerSec: w,
    rawRecordsPerSec: r,
    ratio: w / r,
    walP99Ms: p99(wal.lat),
    rawP99Ms: p99(raw.lat),
  };
}

export async function walBenches(ms = 400): Promise<WalFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-bench-wal-'));
  try {
    const out: WalFigure[] = [];
    for (const b of [1, 64, 1024]) out.push(await one(dir, b, ms));
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
