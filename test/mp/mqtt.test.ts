/**
 * Everything that uses the local Mosquitto, in one file: some tests restart it, which would break
 * an MQTT test running alongside in another file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { startJitd } from '../../src/daemon/jitd.js';
import { KeyPair } from '../../src/identity/index.js';
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

// Mosquitto drops what a slow subscriber has queued beyond 1,000 messages (TRANSPORTS.md), so the
// fuzzer sends at most that many at a time here
hostileAgentSuite({
  name: 'MQTT',
  skip,
  plane: `mqtt://127.0.0.1:1883?prefix=jith${process.pid}`,
  fuzz: 1_000,
});
