import { NatsTransport } from '../../src/mp/transports/nats/index.js';
import { brokerSkip, restartBroker } from '../helpers/brokers.js';
import { transportConformance } from './conformance.js';

const url = 'nats://127.0.0.1:4222';
const stream = `JIT_TEST_${process.pid}`;
const make = (): NatsTransport =>
  new NatsTransport({ url, stream, prefix: `jittest${process.pid}`, ackWaitMs: 2000 });
const skip = await brokerSkip('NATS', 4222);

if (skip !== false) {
  const { it } = await import('node:test');
  it('NATS JetStream conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'nats',
    connect: async () => make(),
    gaps: make().gaps,
    restart: () => restartBroker('nats-server', 4222),
    close: async () => {
      const t = make();
      await t.deleteStream();
      await t.close();
    },
  });
}
