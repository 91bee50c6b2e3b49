/**
 * The publishing side of the native transport benchmark, in its own process: publishes N unsigned
 * messages through jitd's relay, keeping a window in flight, then prints "done".
 * Usage: node native-publisher.js SOCKET N
 */
import { NativeTransport, Plane } from '../src/mp/index.js';

const [path, count] = process.argv.slice(2) as [string, string];
const n = Number(count);
const p = await Plane.open({ transport: new NativeTransport({ path }), sender: 'pub' });
const window: Promise<unknown>[] = [];
for (let i = 0; i < n; i++) {
  window.push(p.publish('bench.native', { i, body: 'x'.repeat(64) }));
  if (window.length === 1024) {
    await Promise.all(window);
    window.length = 0;
  }
}
await Promise.all(window);
console.log('done');
await p.close();
