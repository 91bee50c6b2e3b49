import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { blake3Hex } from '../../src/codec/index.js';
import { Store, storePaths } from '../../src/store/index.js';
import { scanLog, WalOp } from '../../src/wal/index.js';
import { iterations, replayHint, rng, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-test-');

const child = new URL('../helpers/crash-child.js', import.meta.url).pathname;

/** Runs the child until it has acknowledged something, waits `ms` more, kills it with SIGKILL. */
function runAndKill(
  dir: string,
  seed: number,
  ms: number,
): Promise<{ acked: string[]; ref: string | undefined }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: string[] = [];
    let ref: string | undefined;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    p.stderr.on('data', (d) => {
      stderr += String(d);
    });
    createInterface({ input: p.stdout }).on('line', (line) => {
      const [kind, id] = line.split(' ');
      if (kind === 'ACK') {
        acked.push(id!);
        if (timer === undefined) timer = setTimeout(() => p.kill('SIGKILL'), ms);
      } else if (kind === 'REF') ref = id;
    });
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ acked, ref });
      else reject(new Error(`child exited with ${code}/${signal} before the kill: ${stderr}`));
    });
  });
}

describe('store - crash recovery under SIGKILL', () => {
  it('every acknowledged write survives; nothing unacknowledged is half-visible', {
    timeout: 600_000,
  }, async () => {
    const seed = testSeed();
    const r = rng(seed);
    const hint = replayHint(seed, 'crash');
    const dir = await tmp();
    const kills = iterations(3, 50);
    const allAcked = new Set<string>();
    let lastRef: string | undefined;
    for (let k = 0; k < kills; k++) {
      const { acked, ref } = await runAndKill(dir, seed + k, 50 + r.int(400));
      for (const id of acked) allAcked.add(id);
      if (ref !== undefined) lastRef = ref;
      assert.ok(acked.length > 0, hint);

      const store = await Store.open(dir);
      for (const id of allAcked)
        assert.ok(
          store.reader.has(id),
          `acknowledged node ${id} is missing after kill ${k}; ${hint}`,
        );
      if (lastRef !== undefined) {
        // the ref may have moved further (durable but not yet printed), never backwards past an ack
        const target = store.getRef('main')?.target;
        assert.ok(target !== undefined, hint);
        assert.ok(
          target === lastRef || store.reader.lineage(target).includes(lastRef),
          `main lost acknowledged ${lastRef}; ${hint}`,
        );
      }
      const digest = store.digest();
      await store.close();

      // the recovered log verifies to its end, and every node record hashes to a node the store holds
      const check = await Store.open(dir);
      const scan = await scanLog(storePaths(dir).wal, {
        onRecord: (rec) => {
          if (rec.op === WalOp.CREATE_NODE)
            assert.ok(check.reader.has(blake3Hex(rec.payload)), hint);
        },
      });
      assert.equal(scan.tail.kind, 'clean', hint);
      await check.close();

      // replay from empty reproduces the same digest as boot from the checkpoint
      await unlink(storePaths(dir).checkpoint).catch(() => undefined);
      const full = await Store.open(dir);
      assert.equal(full.boot.checkpoint, 'none');
      assert.equal(full.digest(), digest, `replay from empty differs after kill ${k}; ${hint}`);
      await full.close();
    }
  });
});
