import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import { adminSigner } from '../../src/identity/index.js';
import { NativeTransport } from '../../src/mp/index.js';
import { socketPath } from '../../src/util/home.js';
import { iterations } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';
import { transportConformance } from './conformance.js';
import { hostileAgentSuite } from './hostile.js';

const tmp = tmpDirs('jit-native-');
let jitd: Promise<Jitd> | undefined;
const daemon = (): Promise<Jitd> => {
  jitd ??= tmp().then((home) => startJitd({ home }));
  return jitd;
};

transportConformance({
  name: 'native',
  connect: async () => {
    const home = (await daemon()).home;
    return new NativeTransport({ path: socketPath(home) }, { login: await adminSigner(home) });
  },
  url: async () => socketPath((await daemon()).home),
  gaps: new NativeTransport({ path: '' }).gaps,
  close: async () => {
    await (await jitd)?.stop();
  },
});

hostileAgentSuite({ name: 'native', fuzz: iterations(10_000, 1_000_000) });
