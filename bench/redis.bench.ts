/**
 * The plane over Redis Streams against the raw client doing the same broker work in the same run
 * (pipelined XADD + XREADGROUP + XACK), and publish→deliver latency at a fixed rate. Needs
 * redis-server on 127.0.0.1:6379.
 */
import { createClient, RESP_TYPES } from 'redis';
import { RedisTransport } from '../src/mp/transports/redis/index.js';
import { collectGarbage, quantile } from './harness.js';
import { overTransport, pipelined, planeLatency, planeThroughput } from './plane-loops.js';

const URL_ = 'redis://127.0.0.1:6379';

/**
 * The raw client: XADDs 512 in flight, a reader of XREADGROUP (256) acknowledging each batch with
 * one XACK. `batched`: each window of 512 XADDs goes as one explicit pipeline (`multi()` …
 * `execAsPipeline()`) of bare arguments (`addCommand`, no fields object to parse), as the adapter
 * sends a tick's publishes: the cheapest way the library offers; otherwise one `xAdd` call per
 * message, which the client pipelines itself but handles one by one (a timeout signal and a
 * promise each).
 */
async function rawThroughput(n: number, key: string, batched: boolean): Promise<number> {
  const pub = createClient({ url: URL_ });
  const sub = createClient({ url: URL_ });
  await pub.connect();
  await sub.connect();
  await pub.xGroupCreate(key, 'raw', '$', { MKSTREAM: true });
  const bin = sub.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const data = Buffer.alloc(150, 7);
  let got = 0;
  const reading = (async () => {
    while (got < n) {
      const r = (await bin.xReadGroup(
        'raw',
        'c',
        { key, id: '>' },
        { COUNT: 256, BLOCK: 1000 },
      )) as unknown as { messages: { id: Buffer }[] }[] | null;
      if (r === null) continue;
      const ids = r[0]!.messages.map((m) => m.id.toString());
      got += ids.length;
      void pub.xAck(key, 'raw', ids);
    }
  })();
  collectGarbage(); // neither side pays for the last round's leftovers
  const t0 = performance.now();
  if (batched)
    for (let i = 0; i < n; i += 512) {
      const m = pub.multi();
      for (let k = i; k < Math.min(n, i + 512); k++)
        m.addCommand(['XADD', key, '*', 't', 'bench.t', 'd', data]);
      await m.execAsPipeline();
    }
  else await pipelined(n, 512, () => pub.xAdd(key, '*', { t: 'bench.t', d: data }));
  await reading;
  const perSec = n / ((performance.now() - t0) / 1000);
  await pub.del(key);
  await pub.quit();
  await sub.quit();
  return perSec;
}

/** A connection to the plane's stream `key`, and a function that deletes that stream. */
function redisPlane(key: string): { connect: () => RedisTransport; drop: () => Promise<void> } {
  const connect = (): RedisTransport =>
    new RedisTransport({ url: URL_, stream: key, trimEveryMs: 0, blockMs: 1000 });
  const drop = async (): Promise<void> => {
    const t = connect();
    await t.deleteStream();
    await t.close();
  };
  return { connect, drop };
}

function throughputOver(n: number, key: string): Promise<number> {
  const { connect, drop } = redisPlane(key);
  return overTransport(connect, (pub, sub) => planeThroughput(pub, sub, n), drop);
}

function latencyOver(rate: number, ms: number, key: string): Promise<number[]> {
  const { connect, drop } = redisPlane(key);
  return overTransport(connect, (pub, sub) => planeLatency(pub, sub, rate, ms), drop);
}

export async function redisBenches(): Promise<{
  plane: number;
  raw: number;
  rawBatched: number;
  p99: number;
  p50: number;
}> {
  const tag = `jit:bench:${process.pid}`;
  const planes: number[] = [];
  const raws: number[] = [];
  const batched: number[] = [];
  // latency first, on a fresh heap: the throughput rounds leave garbage (and the raw clients'
  // timers) whose collections would be charged to the plane's p99
  const lat = await latencyOver(1000, 3000, `${tag}:lat`);
  for (let r = 0; r < 3; r++) {
    raws.push(await rawThroughput(100_000, `${tag}:raw${r}`, false));
    batched.push(await rawThroughput(100_000, `${tag}:rawb${r}`, true));
    planes.push(await throughputOver(100_000, `${tag}:plane${r}`));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  return {
    plane: med(planes),
    raw: med(raws),
    rawBatched: med(batched),
    p99: quantile(lat, 0.99),
    p50: quantile(lat, 0.5),
  };
}
