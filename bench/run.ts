/**
 * `npm run bench [codec|nodeid|wal|boot|checkpoint|patch|rpc|collapse|plane|acl|flood|native|plane-patch|nats|redis|mqtt|jitna]`: each figure printed next to a baseline measured in the
 * same run, as a ratio. BOOT_NODES sets the size of the boot benchmark's store (default 1,000,000).
 */
import { cpus, loadavg } from 'node:os';
import { aclBench } from './acl.bench.js';
import { bootBenches } from './boot.bench.js';
import { checkpointBench } from './checkpoint.bench.js';
import { codecBenches } from './codec.bench.js';
import { floodBench } from './flood.bench.js';
import { fmtRate } from './harness.js';
import { jitnaConversationBench, jitnaVerifyBench } from './jitna.bench.js';
import { collapseBench, patchBench, roundTripBench } from './kernel.bench.js';
import { batchLatencyBench, nativeBench, planeBenches, planePatchBench } from './mp.bench.js';
import { mqttBenches } from './mqtt.bench.js';
import { natsBenches } from './nats.bench.js';
import { nodeIdBenches } from './nodeid.bench.js';
import { redisBenches } from './redis.bench.js';
import { walBenches } from './wal.bench.js';

const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;

console.log(
  `# JIT benchmarks — node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`,
);

if (want('codec')) {
  console.log('\n## codec (message-plane envelope, 256-byte payload)');
  for (const r of codecBenches())
    console.log(
      `${r.name}: ${fmtRate(r.candidate)} vs ${fmtRate(r.baseline)} = ${r.ratio.toFixed(2)}x`,
    );
}

if (want('nodeid')) {
  console.log('\n## NodeID (goal >= 100k/s)');
  for (const r of nodeIdBenches())
    console.log(
      `${r.name}: ${fmtRate(r.candidate)} vs ${fmtRate(r.baseline)} = ${r.ratio.toFixed(2)}x`,
    );
}

if (want('wal')) {
  console.log(
    '\n## WAL durable append vs raw write+fdatasync, same bytes, same batches (goal >= 0.50x)',
  );
  for (const f of await walBenches()) {
    console.log(
      `batch ${String(f.batch).padStart(4)}: ${fmtRate(f.walRecordsPerSec)} records vs ${fmtRate(f.rawRecordsPerSec)} = ${f.ratio.toFixed(2)}x; ` +
        `p99 ack ${f.walP99Ms.toFixed(2)} ms vs ${f.rawP99Ms.toFixed(2)} ms`,
    );
  }
}

if (want('boot')) {
  const n = Number(process.env.BOOT_NODES ?? 1_000_000);
  console.log(
    `\n## boot of a ${n}-node store (goals: replay >= 200k records/s; boot <= 10 s; index <= 200 B/node)`,
  );
  const b = await bootBenches(n, (s) => process.stderr.write(`${s}\r`));
  const rate = (records: number, ms: number): number => records / (ms / 1000);
  console.log(
    `build: ${(b.buildMs / 1000).toFixed(1)} s (${fmtRate(rate(n, b.buildMs))} nodes, durable in batches of 10k)`,
  );
  console.log(
    `log scan (read + verify only, baseline): ${fmtRate(rate(b.scan.records, b.scan.ms))} records`,
  );
  console.log(
    `full replay (no checkpoint): ${fmtRate(rate(b.replay.records, b.replay.ms))} records = ` +
      `${(rate(b.replay.records, b.replay.ms) / rate(b.scan.records, b.scan.ms)).toFixed(2)}x the scan; ${(b.replay.ms / 1000).toFixed(2)} s; RSS ${mb(b.replay.rss)}`,
  );
  console.log(
    `boot from checkpoint: ${(b.checkpoint.ms / 1000).toFixed(2)} s = ${(b.checkpoint.ms / b.replay.ms).toFixed(2)}x the full replay; ` +
      `index ${(b.checkpoint.indexBytes / b.checkpoint.nodes).toFixed(0)} B/node; RSS ${mb(b.checkpoint.rss)} (process at start ${mb(b.checkpoint.rssBefore)}, ` +
      `${((b.checkpoint.rss - b.checkpoint.rssBefore) / b.checkpoint.nodes).toFixed(0)} B/node above it)`,
  );
}

if (want('checkpoint')) {
  const n = Number(process.env.CHECKPOINT_PATCHES ?? 200_000);
  console.log(
    `\n## checkpoint of a kernel holding ${n} patches over 8 SWSs, made in steps vs in one go`,
  );
  const c = await checkpointBench(n, (s) => process.stderr.write(`${s}\r`));
  console.log(
    `${c.nodes} nodes, checkpoint ${mb(c.bytes)}: the event loop's longest wait ${c.paced.stallMs.toFixed(1)} ms (checkpoint ${c.paced.ms.toFixed(0)} ms) ` +
      `vs in one go ${c.unpaced.stallMs.toFixed(1)} ms (${c.unpaced.ms.toFixed(0)} ms) = ${(c.paced.stallMs / c.unpaced.stallMs).toFixed(3)}x (median of 3 each)`,
  );
}

if (want('patch')) {
  console.log(
    '\n## durable shadow.apply_patch, 8 clients over the Unix socket (goals: >= 20k/s; p99 <= 5 ms at 5k/s)',
  );
  for (const window of [8, 32]) {
    const f = await patchBench(3000, window);
    console.log(
      `1 KiB put patches, 8 clients x ${window} in flight: ${fmtRate(f.patchesPerSec)} vs raw framed echo of the same clients ${fmtRate(f.echoPerSec)} = ${(f.patchesPerSec / f.echoPerSec).toFixed(2)}x`,
    );
    if (window === 8)
      console.log(
        `acknowledgement at ${f.rate}/s offered (${fmtRate(f.achievedRate)} achieved): p99 ${f.p99AtRate.toFixed(2)} ms (p50 ${f.p50AtRate.toFixed(2)}) ` +
          `vs a durable echo server (group commit, O_DSYNC, no kernel) p99 ${f.echoP99AtRate.toFixed(2)} ms (p50 ${f.echoP50AtRate.toFixed(2)}) = ${(f.p99AtRate / f.echoP99AtRate).toFixed(2)}x` +
          `; jitd's WAL syncs meanwhile: ${f.syncsAtRate.all}, ${f.syncsAtRate.over10ms} over 10 ms, the slowest ${f.syncsAtRate.slowest}`,
      );
  }
}

if (want('rpc')) {
  console.log(
    '\n## RPC no-op round trip vs a raw framed echo server, one client, Unix socket (goal: <= 2x)',
  );
  const r = await roundTripBench();
  console.log(
    `handshake ${fmtRate(r.rpcPerSec)} vs echo ${fmtRate(r.echoPerSec)}: a round trip costs ${(r.echoPerSec / r.rpcPerSec).toFixed(2)}x the echo's`,
  );
}

if (want('collapse')) {
  console.log(
    '\n## collapse of an SWS changing 100 files (goal: time at 1M files <= 1.5x time at 10k)',
  );
  const sizes = (process.env.COLLAPSE_SIZES ?? '10000,100000,1000000').split(',').map(Number);
  const res = [];
  for (const n of sizes) {
    const r = await collapseBench(n, 5, (s) => process.stderr.write(`${s}\r`));
    res.push(r);
    console.log(
      `${String(n).padStart(8)} files: ${r.ms.toFixed(2)} ms (median of 5) = ${(r.ms / res[0]!.ms).toFixed(2)}x the ${res[0]!.files}-file tree`,
    );
  }
}

if (want('plane')) {
  console.log(
    '\n## Message Plane, in process (goals: unsigned >= 500k/s; signed per message >= 0.8x raw verify; signed in batches >= 0.5x unsigned, added p99 <= 5 ms)',
  );
  for (const f of await planeBenches())
    console.log(
      `${f.name}: ${fmtRate(f.perSec)} vs ${f.baselineName} ${fmtRate(f.baselinePerSec)} = ${(f.perSec / f.baselinePerSec).toFixed(2)}x`,
    );
  const lat = await batchLatencyBench();
  console.log(
    `p99 publish -> deliver at 10k/s, signed in batches ${lat.batched.toFixed(2)} ms vs unsigned ${lat.unsigned.toFixed(2)} ms: added ${(lat.batched - lat.unsigned).toFixed(2)} ms (median of 3)`,
  );
}

if (want('acl')) {
  console.log(
    '\n## ACL and rate limits on the unsigned in-process plane (goal: cost <= 10%, i.e. >= 0.90x)',
  );
  const a = await aclBench();
  console.log(
    `with the policy (${a.rules} rules) and the limiter asked per message: ${fmtRate(a.withChecks)} vs without ${fmtRate(a.without)} = ${(a.withChecks / a.without).toFixed(2)}x`,
  );
  console.log(`uncached decisions (every topic new): ${fmtRate(a.uncachedPerSec)}`);
}

if (want('flood')) {
  console.log(
    "\n## One agent floods 100k commands; another agent's p99 (goal: loaded <= 2x unloaded)",
  );
  const f = await floodBench();
  console.log(
    `honest agent, 100 patches/s until answered: p99 ${f.loadedP99.toFixed(1)} ms during the flood vs ${f.unloadedP99.toFixed(1)} ms alone = ${(f.loadedP99 / f.unloadedP99).toFixed(2)}x (p50 ${f.loadedP50.toFixed(1)} vs ${f.unloadedP50.toFixed(1)} ms)`,
  );
  console.log(
    `the flood: ${f.flood} publishes offered; in ${(f.floodMs / 1000).toFixed(1)} s ${f.accepted} were taken and ${f.refused} refused (E_RATE_LIMITED), the rest held off at the socket`,
  );
}

if (want('native')) {
  console.log(
    '\n## Message Plane, native transport between two processes (goal: >= 100k/s unsigned)',
  );
  const memory = (await planeBenches()).find((f) => f.name.includes('unsigned'))!;
  await nativeBench(20_000); // warm-up, not counted (the first run pays for compiling the path)
  const rates = [await nativeBench(), await nativeBench(), await nativeBench()].sort(
    (a, b) => a - b,
  );
  console.log(
    `publisher process -> jitd relay -> subscriber: ${fmtRate(rates[1]!)} (median of 3) vs the in-process plane ${fmtRate(memory.perSec)} = ${(rates[1]! / memory.perSec).toFixed(2)}x; goal 100k/s = ${(rates[1]! / 100_000).toFixed(2)}x`,
  );
}

if (want('plane-patch')) {
  console.log('\n## a patch on the plane until its status answer (goal: p99 <= 10 ms at 1k/s)');
  const r = await planePatchBench();
  console.log(
    `signed, native transport, bridge, kernel, status answer: p99 ${r.p99.toFixed(2)} ms (p50 ${r.p50.toFixed(2)}) vs the same patch by direct RPC p99 ${r.rpcP99.toFixed(2)} ms (p50 ${r.rpcP50.toFixed(2)}) = ${(r.p99 / r.rpcP99).toFixed(2)}x`,
  );
}

if (want('nats')) {
  console.log(
    '\n## the plane over NATS JetStream (goals: >= 0.7x the raw client; p99 <= 5 ms at 1k/s)',
  );
  const r = await natsBenches();
  console.log(
    `unsigned, publish -> deliver with acks: ${fmtRate(r.plane)} vs the raw client (JetStream publish + pull consume + ack) ${fmtRate(r.raw)} = ${(r.plane / r.raw).toFixed(2)}x`,
  );
  console.log(`publish -> deliver at 1k/s: p99 ${r.p99.toFixed(2)} ms (p50 ${r.p50.toFixed(2)})`);
}

if (want('redis')) {
  console.log(
    '\n## the plane over Redis Streams (goals: >= 0.7x the raw client; p99 <= 5 ms at 1k/s)',
  );
  const r = await redisBenches();
  console.log(
    `unsigned, publish -> deliver with acks: ${fmtRate(r.plane)} vs the raw client (bare XADD arguments in explicit pipelines of 512 + XREADGROUP + XACK) ${fmtRate(r.rawBatched)} = ${(r.plane / r.rawBatched).toFixed(2)}x`,
  );
  console.log(
    `  (the raw client with one call per XADD, 512 in flight: ${fmtRate(r.raw)}; the plane = ${(r.plane / r.raw).toFixed(2)}x of it)`,
  );
  console.log(`publish -> deliver at 1k/s: p99 ${r.p99.toFixed(2)} ms (p50 ${r.p50.toFixed(2)})`);
}

if (want('mqtt')) {
  console.log('\n## the plane over MQTT (goals: >= 0.7x the raw client; p99 <= 5 ms at 1k/s)');
  const r = await mqttBenches();
  console.log(
    `unsigned, publish -> deliver with acks: ${fmtRate(r.plane)} vs the raw client (QoS 1, ${16} awaiting PUBACK, QoS 1 subscriber) ${fmtRate(r.raw)} = ${(r.plane / r.raw).toFixed(2)}x`,
  );
  console.log(`publish -> deliver at 1k/s: p99 ${r.p99.toFixed(2)} ms (p50 ${r.p50.toFixed(2)})`);
}

if (want('jitna')) {
  console.log('\n## JITNA packet validate + verify vs raw node:crypto verify (goal >= 0.80x)');
  const r = jitnaVerifyBench();
  console.log(
    `${r.name}: ${fmtRate(r.candidate)} vs ${fmtRate(r.baseline)} = ${r.ratio.toFixed(2)}x`,
  );
}

if (want('jitna')) {
  console.log(
    '\n## JITNA PROPOSE -> ACCEPT -> COMPLETE over the in-process plane (goal p99 <= 5 ms)',
  );
  const c = await jitnaConversationBench();
  console.log(
    `${c.n} conversations: p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms vs the same three hops as plain signed messages p50 ${c.baselineP50Ms.toFixed(2)} ms, p99 ${c.baselineP99Ms.toFixed(2)} ms = ${(c.p99Ms / c.baselineP99Ms).toFixed(2)}x at p99`,
  );
}
