/**
 * Everything that uses the local Mosquitto, in one file: some tests restart it, which would break
 * an MQTT test running alongside in another file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
import type { Delivery } from '../../src/mp/index.js';
import { countAfter } from '../../src/mp/transports/mqtt/delivery-count.js';
import { MqttTransport } from '../../src/mp/transports/mqtt/index.js';
import { Agent } from '../../src/sdk/index.js';
import { registerAgents } from '../helpers/agents.js';
import { brokerSkip, restartBroker } from '../helpers/brokers.js';
import { capture } from '../helpers/io.js';
import { patchStorm } from '../helpers/patch-storm.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';
import { transportConformance } from './conformance.js';
import { hostileAgentSuite } from './hostile.js';

const make = (): MqttTransport =>
  new MqttTransport({ url: 'mqtt://127.0.0.1:1883', prefix: `jittest${process.pid}` });
const skip = await brokerSkip('Mosquitto', 1883);
const tmp = tmpDirs('jit-mqtt-');

if (skip !== false) {
  it('MQTT conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'mqtt',
    connect: async () => make(),
    url: async () => `mqtt://127.0.0.1:1883?prefix=jittest${process.pid}`,
    gaps: make().gaps,
    restart: () => restartBroker('mosquitto', 1883),
  });
}

describe('jitd with --plane mqtt://', { skip }, () => {
  it('an agent on MQTT finds jitd by JIT_HOME, patches and commits; jit info names the plane', async () => {
    const url = `mqtt://127.0.0.1:1883?prefix=jitj${process.pid}`;
    const jitd = await startJitd({ home: await tmp(), plane: url });
    const before = process.env.JIT_HOME;
    try {
      const k = KeyPair.generate();
      await registerAgents(jitd.home, [['alice', k]]);
      process.env.JIT_HOME = jitd.home; // no kernel address given: the home's socket
      const a = await Agent.connect({ agent: 'alice', key: k, plane: url });
      const sws = await a.openSws();
      await a.patch(sws, [{ op: 'put', path: 'm.txt', content: new TextEncoder().encode('m\n') }]);
      const r = (await a.commit(sws)) as { ref: string };
      assert.equal(r.ref, 'main');
      await a.close();
      const io = capture();
      assert.equal(await main(['info', '--home', jitd.home], io), 0);
      assert.match(io.stdout, /plane {6}mqtt \(mqtt:\/\/127\.0\.0\.1:1883/);
      assert.match(io.stdout, /connected: prefix jitj\d+: \d+ subscriptions/);
    } finally {
      if (before === undefined) delete process.env.JIT_HOME;
      else process.env.JIT_HOME = before;
      await jitd.stop();
    }
  });
});

describe('Mosquitto restarted under the plane', { skip }, () => {
  const url = `mqtt://127.0.0.1:1883?prefix=jitf${process.pid}`;

  it('8 agents x N patches over MQTT with the broker restarted in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: url,
      perAgent: iterations(1000, 1000),
      fault: () => restartBroker('mosquitto', 1883),
    });
  });

  it('8 agents x N patches over MQTT with jitd restarted in the middle: each applied exactly once', async () => {
    await patchStorm({
      home: await tmp(),
      plane: url,
      perAgent: iterations(300, 1000),
      fault: ({ restartJitd }) => restartJitd(),
    });
  });
});

describe('MQTT delivery counts', { skip }, () => {
  it('counts 2 for the message a member died holding and 1 for what it never read; an acknowledged count is cleared', async () => {
    const prefix = `jitc${process.pid}`;
    const topic = `count.t${Date.now().toString(36)}`;
    const group = `g${Date.now().toString(36)}`;
    const conn = (): MqttTransport => new MqttTransport({ url: 'mqtt://127.0.0.1:1883', prefix });
    const pub = conn();
    const first = conn();
    const s1 = await first.subscribe(topic, { group });
    for (let i = 0; i < 5; i++) await pub.publish(topic, new Uint8Array([i]));
    const it1 = s1[Symbol.asyncIterator]();
    const a = (await it1.next()).value as Delivery;
    assert.deepEqual([a.data[0], a.deliveries, a.redelivered], [0, 1, false]);
    a.ack();
    const b = (await it1.next()).value as Delivery;
    assert.deepEqual([b.data[0], b.deliveries], [1, 1]);
    await first.close(); // dies holding message 1
    const second = conn();
    const s2 = await second.subscribe(topic, { group });
    const it2 = s2[Symbol.asyncIterator]();
    // what a group's record holds, read as a plane topic under the records' prefix
    const record = async (): Promise<string[]> => {
      const t = new MqttTransport({ url: 'mqtt://127.0.0.1:1883', prefix: `${prefix}-deliveries` });
      const w = await t.subscribe(group);
      await new Promise((r) => setTimeout(r, 300));
      const seen: string[] = [];
      for (let d = w.poll?.(); d !== undefined; d = w.poll?.())
        seen.push(Buffer.from(d.data).toString());
      await t.close();
      return seen;
    };
    const got: [number, number | undefined][] = [];
    for (let i = 0; i < 4; i++) {
      const d = (await it2.next()).value as Delivery;
      got.push([d.data[0]!, d.deliveries]);
      // (the others were sent to the first member too, unread: the broker's window is 20)
      if (i === 0) assert.equal(d.redelivered, true);
      if (i === 0) {
        const [r] = await record();
        assert.equal(
          (JSON.parse(r!) as { n: number }).n,
          2,
          'the count is stored before it is handed out',
        );
      }
      d.ack();
    }
    assert.deepEqual(got, [
      [1, 2],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    assert.deepEqual(await record(), [], 'an acknowledged count is cleared');
    await second.close();
    await pub.close();
  });

  it('reads a count from a record: the same digest counts on, another starts at 2', () => {
    const rec = (d: string, n: unknown): Uint8Array => Buffer.from(JSON.stringify({ d, n }));
    assert.equal(countAfter(undefined, 'x'), 2);
    assert.equal(countAfter(new Uint8Array(0), 'x'), 2);
    assert.equal(countAfter(rec('x', 2), 'x'), 3);
    assert.equal(countAfter(rec('x', 7), 'x'), 8);
    assert.equal(countAfter(rec('y', 7), 'x'), 2);
    assert.equal(countAfter(rec('x', 'seven'), 'x'), 2);
    assert.equal(countAfter(rec('x', 1.5), 'x'), 2);
    assert.equal(countAfter(Buffer.from('not json'), 'x'), 2);
  });
});

// Mosquitto drops what a slow subscriber has queued beyond 1,000 messages (TRANSPORTS.md), so the
// fuzzer sends at most that many at a time here
hostileAgentSuite({
  name: 'MQTT',
  skip,
  plane: `mqtt://127.0.0.1:1883?prefix=jith${process.pid}`,
  fuzz: 1_000,
});
