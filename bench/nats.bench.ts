/**
 * The plane over NATS JetStream against the raw client doing the same broker work in the same run
 * (JetStream publish with acks + a pull consumer acking each message), and publish→deliver
 * latency at a fixed rate. Needs nats-server with JetStream on 127.0.0.1:4222.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Plane } from '../src/mp/index.js';
import { NatsTransport } from '../src/mp/transports/nats/index.js';
import { openLoop, quantile } from './kernel.bench.js';

const URL_ = 'nats://127.0.0.1:4222';
const body = { body: 'x'.repeat(64) };

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
  const t0 = performance.now();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    window.push(js.publish(`${stream}.t`, data));
    if (window.length === 512) {
      await Promise.all(window);
      window.length = 0;
    }
  }
  await Promise.all(window);
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await jsm.streams.delete(stream);
  await nc.close();
  return perSec;
}

async function planeThroughput(n: number, stream: string): Promise<number> {
  const mk = (): NatsTransport =>
    new NatsTransport({ url: URL_, stream, prefix: stream.toLowerCase() });
  const p = await Plane.open({ transport: mk(), sender: 'pub' });
  const c = await Plane.open({ transport: mk(), sender: 'sub' });
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  await c.subscribe('bench.t', () => {
    if (++got === n) done();
  });
  const t0 = performance.now();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    window.push(p.publish('bench.t', { i, ...body }));
    if (window.length === 512) {
      await Promise.all(window);
      window.length = 0;
    }
  }
  await Promise.all(window);
  await all;
  const perSec = n / ((performance.now() - t0) / 1000);
  await p.close();
  await c.close();
  const t = mk();
  await t.deleteStream();
  await t.close();
  return perSec;
}

async function planeLatency(rate: number, ms: number, stream: string): Promise<number[]> {
  const mk = (): NatsTransport =>
    new NatsTransport({ url: URL_, stream, prefix: stream.toLowerCase() });
  const p = await Plane.open({ transport: mk(), sender: 'pub' });
  const c = await Plane.open({ transport: mk(), sender: 'sub' });
  const waiting = new Map<number, () => void>();
  await c.subscribe('bench.lat', (m) => {
    waiting.get((m.payload as { i: number }).i)?.();
  });
  let i = 0;
  const send = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const k = i++;
      waiting.set(k, () => {
        waiting.delete(k);
        resolve();
      });
      void p.publish('bench.lat', { i: k, ...body });
    });
  await openLoop(rate, ms / 2, send);
  const { lat } = await openLoop(rate, ms, send);
  await p.close();
  await c.close();
  const t = mk();
  await t.deleteStream();
  await t.close();
  return lat;
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
  for (let r = 0; r < 3; r++) {
    raws.push(await rawThroughput(30_000, `RAW${tag}${r}`));
    planes.push(await planeThroughput(30_000, `PLANE${tag}${r}`));
  }
  const lat = await planeLatency(1000, 3000, `LAT${tag}`);
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  return { plane: med(planes), raw: med(raws), p99: quantile(lat, 0.99), p50: quantile(lat, 0.5) };
}
