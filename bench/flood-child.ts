/**
 * The flooding agent of the flood benchmark, in its own process: logs in to jitd's relay as AGENT
 * with the key in KEYFILE, signs N patch commands on SWS, prints `ready`, and on a line on stdin
 * publishes them as fast as the relay answers (256 in flight, so each batch fits the command burst), counting what the relay refuses;
 * prints `done <accepted> <refused>` when it is through or sent SIGTERM.
 * Usage: node flood-child.js SOCKET AGENT KEYFILE SWS N
 */
import { KeyPair, keySigner } from '../src/identity/index.js';
import { NativeTransport, Plane, Topics } from '../src/mp/index.js';
import { pipelined } from './plane-loops.js';

const [path, agent, keyFile, sws, count] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const signer = keySigner(agent, await KeyPair.load(keyFile));
const transport = new NativeTransport({ path }, { login: signer });
const p = await Plane.open({ transport, sender: agent, signer });
let accepted = 0;
let refused = 0;
const topic = Topics.swsPatch(sws);
// signed before the flood starts: a remote attacker's signing costs this machine nothing
const ready = Array.from(
  { length: Number(count) },
  (_, i) =>
    p.envelope(topic, {
      patch: {
        author: agent,
        ops: [{ op: 'put', path: `f${i % 100}`, content: new Uint8Array([i & 255]) }],
      },
    }).bytes,
);
console.log('ready');
// stopped early (the benchmark has measured what it needs): say how far it got
process.once('SIGTERM', () => {
  console.log(`done ${accepted} ${refused}`);
  process.exit(0);
});
await new Promise((r) => process.stdin.once('data', r));
await pipelined(ready.length, 256, (i) =>
  p.send(topic, ready[i]!).then(
    () => void accepted++,
    () => void refused++,
  ),
);
console.log(`done ${accepted} ${refused}`);
await p.close();
process.stdin.destroy();
