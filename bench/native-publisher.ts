/**
 * The publishing side of the native transport benchmark, in its own process: connects and logs
 * in, prints "ready", and on a line "go" from its stdin publishes N unsigned messages through
 * jitd's relay, keeping a window in flight, then prints "done". (Starting the clock at "go" keeps
 * the process's start and login, ~0.3 s, out of the figure.)
 * Usage: node native-publisher.js SOCKET N
 */
import { once } from 'node:events';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { adminSigner } from '../src/identity/index.js';
import { NativeTransport, Plane } from '../src/mp/index.js';
import { benchPayload, pipelined } from './plane-loops.js';

const [path, count] = process.argv.slice(2) as [string, string];
const n = Number(count);
// logs in as the data directory's admin (the socket lives in it)
const transport = new NativeTransport({ path }, { login: await adminSigner(dirname(path)) });
const p = await Plane.open({ transport, sender: 'pub' });
const lines = createInterface({ input: process.stdin });
console.log('ready');
await once(lines, 'line');
lines.close();
await pipelined(n, 1024, (i) => p.publish('bench.native', benchPayload(i)));
console.log('done');
await p.close();
