/**
 * Two agents edit one shadow working set at the same time over the Message Plane, then the owner
 * commits it. Every patch and the commit are signed commands that the kernel answers on the SWS's
 * status topic; the kernel announces the collapse on jit.kernel.sws_lifecycle.
 *
 *   npm start                                  # in one terminal
 *   npm run --silent example -- two-agents     # in another
 */
import { Topics } from '../src/mp/index.js';
import { agents, log } from './setup.js';

const [alice, bob] = await agents(['alice', 'bob']);
const announced = new Promise<string>((resolve) => {
  void alice!.plane.subscribe(Topics.kernelSwsLifecycle, (m) => {
    const e = m.payload as { event: string; sws: string };
    if (e.event === 'collapsed') resolve(`${m.sender} announced: ${e.sws} collapsed`);
  });
});
const sws = await alice!.openSws({ delegates: ['bob'] });
log(`alice opened SWS ${sws} on main (bob may edit it too)`);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
await Promise.all([
  ...[1, 2, 3].map(async (i) => {
    await alice!.patch(sws, [
      { op: 'put', path: `notes/alice-${i}.md`, content: enc(`# note ${i}\n`) },
    ]);
    log(`alice: patch ${i} applied`);
  }),
  ...[1, 2, 3].map(async (i) => {
    await bob!.patch(sws, [
      { op: 'put', path: `src/bob-${i}.ts`, content: enc(`export const n = ${i};\n`) },
    ]);
    log(`bob:   patch ${i} applied`);
  }),
]);
const r = (await alice!.commit(sws, { message: 'alice and bob, together' })) as {
  snapshot: string;
  ref: string;
};
log(await announced);
console.log(`committed ${r.snapshot} on ${r.ref}: 6 files from alice and bob`);
await alice!.close();
await bob!.close();
