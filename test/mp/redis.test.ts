import { RedisTransport } from '../../src/mp/transports/redis/index.js';
import { brokerSkip } from '../helpers/brokers.js';
import { transportConformance } from './conformance.js';

const stream = `jit:test:${process.pid}`;
const make = (): RedisTransport =>
  new RedisTransport({ url: 'redis://127.0.0.1:6379', stream, ackWaitMs: 2000, blockMs: 200 });
const skip = await brokerSkip('Redis', 6379);

if (skip !== false) {
  const { it } = await import('node:test');
  it('Redis Streams conformance', { skip }, () => undefined);
} else {
  transportConformance({
    name: 'redis',
    connect: async () => make(),
    gaps: make().gaps,
    close: async () => {
      const t = make();
      await t.deleteStream();
      await t.close();
    },
  });
}
