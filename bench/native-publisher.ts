/**
 * The publishing side of the native transport benchmark, in its own process: publishes N unsigned
 * messages through jitd's relay, keeping a window in flight, then prints "done".
 * Usage: node native-publisher.js SOCKET N
 */
import { NativeTransport, Plane } from '../src/mp/index.js';
import { benchPayload, pipelined } from './plane-loops.js';

const [path, count] = process.argv.slice(2) as [string, string];
const n = Number(count);
const p = await Plane.open({ transport: new NativeTransport({ path }), sender: 'pub' });
await pipelined(n, 1024, (i) => p.publish('bench.native', benchPayload(i)));
console.log('done');
await p.close();
