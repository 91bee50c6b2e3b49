/**
 * The plane over NATS JetStream against the raw client doing the same broker work in the same run
 * (JetStream publish with acks + a pull consumer acking each message), and publish→deliver
 * latency at a fixed rate. Needs nats-server with JetStream on 127.0.0.1:4222.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsTransport } from '../src/mp/transports/nats/index.js';
import { collectGarbage, quantile } from './harness.js';
import { overTransport, pipelined, planeLatency, planeThroughput } from './plane-loops.js';

const URL_ = 'nats://127.0.0.1:4222';

async function rawThroughput(n: number, stream: string): Promise<number> {
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    max_ack_pending: 256,
  });
  const c = await js.consumers.get(stream, 'raw');
  const msgs = await c.consume({ max_messages: 256 });
  const data = new Uint8Array(150).fill(7);
  let got = 0;
  const all = (async () => {
    for await (const m of msgs) {
      m.ack();
      if (++got === n) break;
    }
  })();
  collectGarbage(); // neither side pays for the last round's leftovers
  const t0 = performance.now();
  await pipelined(n, 512, () => js.publish(`${stream}.t`, data));
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await jsm.streams.delete(stream);
  await nc.close();
  return perSec;
}

/** A connection to the plane's stream `stream`, and a function that deletes that stream. */
function natsPlane(stream: string): { connect: () => NatsTransport; drop: () => Promise<void> } {
  const connect = (): NatsTransport =>
    new NatsTransport({ url: URL_, stream, prefix: stream.toLowerCase() });
  const drop = async (): Promise<void> => {
    const t = connect();
    await t.deleteStream();
    await t.close();
  };
  return { connect, drop };
}

function throughputOver(n: number, stream: string): Promise<number> {
  const { connect, drop } = natsPlane(stream);
  return overTransport(connect, (pub, sub) => planeThroughput(pub, sub, n), drop);
}

function latencyOver(rate: number, ms: number, stream: string): Promise<number[]> {
  const { connect, drop } = natsPlane(stream);
  return overTransport(connect, (pub, sub) => planeLatency(pub, sub, rate, ms), drop);
}

export async function natsBenches(): Promise<{
  plane: number;
  raw: number;
  p99: number;
  p50: number;
}> {
  const tag = `B${process.pid}`;
  const planes: number[] = [];
  const raws: number[] = [];
  // latency first, on a fresh heap: the throughput rounds leave garbage (and the raw clients'
  // timers) whose collections would be charged to the plane's p99
  const lat = await latencyOver(1000, 3000, `LAT${tag}`);
  for (let r = 0; r < 3; r++) {
    raws.push(await rawThroughput(30_000, `RAW${tag}${r}`));
    planes.push(await throughputOver(30_000, `PLANE${tag}${r}`));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  return { plane: med(planes), raw: med(raws), p99: quantile(lat, 0.99), p50: quantile(lat, 0.5) };
}
