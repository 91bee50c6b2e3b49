/**
 * Boots a store in a fresh process and prints one JSON line: boot time, records replayed, node
 * count, index bytes and RSS. Run by boot.bench.ts so memory figures are not muddied by the
 * process that built the store. Mode "scan" only reads and verifies the log (the baseline).
 */
import { Store, storePaths } from '../src/store/index.js';
import { scanLog } from '../src/wal/index.js';

const [dir, mode] = process.argv.slice(2) as [string, string];
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
if (mode === 'scan') {
  const r = await scanLog(storePaths(dir).wal, { onRecord: () => undefined });
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({ mode, ms, records: r.records, rss: process.memoryUsage().rss, rssBefore }),
  );
} else {
  const s = await Store.open(dir);
  const ms = performance.now() - t0;
  const idx = (s as unknown as { dag: { index: { memoryBytes: number } } }).dag.index.memoryBytes;
  console.log(
    JSON.stringify({
      mode,
      ms,
      records: s.boot.replayed,
      checkpoint: s.boot.checkpoint,
      nodes: s.reader.size,
      indexBytes: idx,
      rss: process.memoryUsage().rss,
      rssBefore,
    }),
  );
  await s.close();
}
