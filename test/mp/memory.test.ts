import { MemoryBroker } from '../../src/mp/index.js';
import { transportConformance } from './conformance.js';

const broker = new MemoryBroker({ maxBacklog: 1024 });
transportConformance({
  name: 'memory',
  connect: async () => broker.connect(),
  gaps: broker.connect().gaps,
});
