/**
 * A consumer in its own process, for the "killed before acknowledging" test: joins `group` on
 * `topic` over the plane at `url`, prints `ready`, then `got <payload JSON>` for the first
 * message, and waits to be killed without ever acknowledging it.
 * Usage: node consumer-child.js <plane url> <topic> <group>
 */
import { dirname } from 'node:path';
import { adminSigner } from '../../src/identity/index.js';
import { openTransport, Plane } from '../../src/mp/index.js';

const [url, topic, group] = process.argv.slice(2);
if (url === undefined || topic === undefined || group === undefined) {
  console.error('usage: consumer-child <plane url> <topic> <group>');
  process.exit(2);
}
// on jitd's own relay (a socket path) the consumer logs in as the data directory's admin
const login = url.endsWith('jitd.sock') ? { login: await adminSigner(dirname(url)) } : {};
const plane = await Plane.open({ transport: openTransport(url, login), sender: 'consumer' });
const sub = await plane.subscribe(topic, { group });
console.log('ready');
const first = await sub[Symbol.asyncIterator]().next();
console.log(`got ${JSON.stringify(first.value?.payload)}`);
setInterval(() => undefined, 60_000);
