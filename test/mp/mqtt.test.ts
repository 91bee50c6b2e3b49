import { it } from 'node:test';
import { MqttTransport } from '../../src/mp/transports/mqtt/index.js';
import { brokerSkip, restartBroker } from '../helpers/brokers.js';
import { transportConformance } from './conformance.js';

const make = (): MqttTransport =>
  new MqttTransport({ url: 'mqtt://127.0.0.1:1883', prefix: `jittest${process.pid}` });
const skip = await brokerSkip('Mosquitto', 1883);

if (skip !== false) {
  it('MQTT conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'mqtt',
    connect: async () => make(),
    gaps: make().gaps,
    restart: () => restartBroker('mosquitto', 1883),
  });
}
