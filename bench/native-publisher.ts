/**
 * The publishing side of the native transport benchmark, in its own process: publishes N unsigned
 * messages through jitd's relay, keeping a window in flight, then prints "done".
 * Usage: node native-publisher.js SOCKET N
 */
import { dirname } from 'node:path';
import { adminSigner } from '../src/identity/index.js';
import { NativeTransport, Plane } from '../src/mp/index.js';
import { benchPayload, pipelined } from './plane-loops.js';

const [path, count] = process.argv.slice(2) as [string, string];
const n = Number(count);
// logs in as the data directory's admin (the socket lives in it)
const transport = new NativeTransport({ path }, { login: await adminSigner(dirname(path)) });
const p = await Plane.open({ transport, sender: 'pub' });
await pipelined(n, 1024, (i) => p.publish('bench.native', benchPayload(i)));
console.log('done');
await p.close();
