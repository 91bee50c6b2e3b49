/**
 * The plane over MQTT (Mosquitto) against the raw client doing the same broker work in the same
 * run (QoS 1 publishes with at most 16 awaiting PUBACK, a QoS 1 subscriber), and publish→deliver
 * latency at a fixed rate. Needs mosquitto on 127.0.0.1:1883.
 */
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import { MqttTransport } from '../src/mp/transports/mqtt/index.js';
import { collectGarbage, quantile } from './harness.js';
import { overTransport, planeLatency, planeThroughput } from './plane-loops.js';

const URL_ = 'mqtt://127.0.0.1:1883';
/** The adapter's window: at most this many publishes awaiting PUBACK (Mosquitto accepts 20). */
const WINDOW = 16;
/** Published and not yet delivered, at most: well under Mosquitto's 1000 queued per subscriber. */
const E2E_WINDOW = 256;

/**
 * Sends `n` messages keeping at most `window` published and not yet delivered: Mosquitto drops
 * what a subscriber falls more than `max_queued_messages` (1000) behind on, so both the raw client
 * and the plane are measured at the rate their subscriber sustains, without loss.
 */
async function endToEnd(
  n: number,
  window: number,
  send: (i: number) => Promise<unknown>,
  delivered: () => number,
): Promise<void> {
  let next = 0;
  let waiting: (() => void)[] = [];
  const lane = async (): Promise<void> => {
    while (next < n) {
      while (next - delivered() >= window) await new Promise<void>((r) => waiting.push(r));
      await send(next++);
    }
  };
  const poke = setInterval(() => {
    const w = waiting;
    waiting = [];
    for (const r of w) r();
  }, 1);
  await Promise.all(Array.from({ length: WINDOW }, lane));
  clearInterval(poke);
}

async function rawThroughput(n: number, prefix: string): Promise<number> {
  const opts = { protocolVersion: 5 as const, clean: true };
  const pub = await connectAsync(URL_, { ...opts, clientId: `raw-pub-${prefix}` });
  const sub = await connectAsync(URL_, { ...opts, clientId: `raw-sub-${prefix}` });
  await sub.subscribeAsync(`${prefix}/bench/t`, { qos: 1 });
  const data = Buffer.alloc(150, 7);
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  sub.on('message', () => {
    if (++got === n) done();
  });
  collectGarbage(); // neither side pays for the last round's leftovers
  const t0 = performance.now();
  await endToEnd(
    n,
    E2E_WINDOW,
    () => pub.publishAsync(`${prefix}/bench/t`, data, { qos: 1 }),
    () => got,
  );
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await pub.endAsync();
  await sub.endAsync();
  return perSec;
}

const transport = (prefix: string): MqttTransport =>
  new MqttTransport({ url: URL_, prefix, maxInflight: WINDOW });

function throughputOver(n: number, prefix: string): Promise<number> {
  return overTransport(
    () => transport(prefix),
    (pub, sub) =>
      planeThroughput(pub, sub, n, undefined, (k, send, delivered) =>
        endToEnd(k, E2E_WINDOW, send, delivered),
      ),
  );
}

function latencyOver(rate: number, ms: number, prefix: string): Promise<number[]> {
  return overTransport(
    () => transport(prefix),
    (pub, sub) => planeLatency(pub, sub, rate, ms),
  );
}

export async function mqttBenches(): Promise<{
  plane: number;
  raw: number;
  p99: number;
  p50: number;
}> {
  const tag = `jitbench${randomBytes(3).toString('hex')}`;
  const planes: number[] = [];
  const raws: number[] = [];
  // latency first, on a fresh heap: the throughput rounds leave garbage (and the raw clients'
  // timers) whose collections would be charged to the plane's p99
  const lat = await latencyOver(1000, 3000, `${tag}l`);
  for (let r = 0; r < 3; r++) {
    raws.push(await rawThroughput(20_000, `${tag}r${r}`));
    planes.push(await throughputOver(20_000, `${tag}p${r}`));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  return { plane: med(planes), raw: med(raws), p99: quantile(lat, 0.99), p50: quantile(lat, 0.5) };
}
