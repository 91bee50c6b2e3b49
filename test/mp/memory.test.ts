import { MemoryBroker } from '../../src/mp/index.js';
import { iterations } from '../helpers/seed.js';
import { transportConformance } from './conformance.js';
import { hostileAgentSuite } from './hostile.js';

const broker = new MemoryBroker({ maxBacklog: 1024 });
transportConformance({
  name: 'memory',
  connect: async () => broker.connect(),
  gaps: broker.connect().gaps,
});

// hostile bytes put straight into jitd's in-process broker, past the relay's checks
hostileAgentSuite({
  name: 'memory',
  fuzz: iterations(10_000, 100_000),
  raw: (jitd) => jitd.broker.connect(),
});
