/**
 * JITNA packet verification (issue 7 goal: validate + verify ≥ 0.8× the raw node:crypto verify
 * rate): `PacketVerifier.verify` (the validator, the canonical encoding of the signed bytes, the
 * trust store's key, Ed25519, the replay cache) against `crypto.verify` alone over the same
 * packets' signing bytes, with the key object made once. Rounds interleaved.
 */
import { verify } from 'node:crypto';
import { fromHex } from '../src/codec/index.js';
import { KeyPair, keySigner, publicKeyObject, TrustStore } from '../src/identity/index.js';
import {
  createPacket,
  type JitnaPacket,
  PacketVerifier,
  packetSigningBytes,
  signPacket,
} from '../src/jitna/index.js';
import { type Comparison, compare } from './harness.js';

export function jitnaVerifyBench(n = 2048): Comparison {
  const key = KeyPair.generate();
  const trust = TrustStore.memory([{ agent: 'alice', publicKey: key.publicKey, role: 'agent' }]);
  const signer = keySigner('alice', key);
  const now = Date.now();
  const packets: JitnaPacket[] = [];
  for (let i = 0; i < n; i++)
    packets.push(
      signPacket(
        createPacket({
          source: 'alice',
          target: 'bob',
          type: 'negotiation',
          payload: {
            negotiation: {
              kind: 'propose',
              offer_id: `o${i}`,
              offer_version: 1,
              terms: { task: 'analyze src/', budget_s: 30 },
            },
          },
          correlationId: `conv-${i}`,
          seq: 0,
          now,
        }),
        signer,
        { now, ttlMs: 600_000 },
      ),
    );
  const raw = packets.map((p) => ({ bytes: packetSigningBytes(p), sig: fromHex(p.signature!)! }));
  const keyObject = publicKeyObject(key.publicKey);
  // the same packets again and again: after the first pass each is refused as `replayed`, which is
  // checked last, so every call pays for every check
  const verifier = new PacketVerifier({ keys: trust, now: () => now });
  let i = 0;
  let j = 0;
  let bad = 0;
  const r = compare(
    'validate + verify vs crypto.verify',
    () => {
      const v = verifier.verify(packets[i++ % n]!);
      if (!v.ok && v.reason !== 'replayed') bad++;
    },
    () => {
      const x = raw[j++ % n]!;
      if (!verify(null, x.bytes, keyObject, x.sig)) bad++;
    },
    { rounds: 7, ms: 400 },
  );
  if (bad > 0) throw new Error(`${bad} packets failed to verify in the benchmark`);
  return r;
}

export interface ConversationFigure {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The same three hops as plain signed plane messages, no JITNA packets. */
  readonly baselineP50Ms: number;
  readonly baselineP99Ms: number;
}

/**
 * A PROPOSE → ACCEPT → COMPLETE conversation between two JitnaAgents over the in-process plane
 * (issue 7 goal: p99 ≤ 5 ms), one after another, against the same three hops as plain signed plane
 * messages (request → ack → result) between the same two planes. Rounds interleaved.
 */
export async function jitnaConversationBench(n = 1000): Promise<ConversationFigure> {
  const { MemoryBroker, Plane } = await import('../src/mp/index.js');
  const { JitnaAgent } = await import('../src/sdk/index.js');
  const ka = KeyPair.generate();
  const kb = KeyPair.generate();
  const trust = TrustStore.memory([
    { agent: 'asker', publicKey: ka.publicKey, role: 'agent' },
    { agent: 'doer', publicKey: kb.publicKey, role: 'agent' },
  ]);
  const broker = new MemoryBroker();
  const open = (name: string, k: KeyPair) =>
    Plane.open({
      transport: broker.connect(),
      sender: name,
      signer: keySigner(name, k),
      verifier: trust,
    });
  const pa = await open('asker', ka);
  const pb = await open('doer', kb);
  const doer = await JitnaAgent.start({
    plane: pb,
    signer: keySigner('doer', kb),
    keys: trust,
    capabilities: {
      name: 'doer',
      version: '1',
      supported_actions: ['work'],
      supported_formats: [],
      security_level: 1,
      status: 'healthy',
      load: 0,
    },
    onProposal: () => ({ accept: true, run: (t) => ({ ok: true, ...t }) }),
  });
  const asker = await JitnaAgent.start({ plane: pa, signer: keySigner('asker', ka), keys: trust });
  // the baseline: request → ack + result on plain plane topics
  let waiting: (() => void) | undefined;
  await pb.subscribe('bench.req', async (m) => {
    await pb.publish('bench.ack', { re: m.id });
    await pb.publish('bench.res', { re: m.id, ok: true });
  });
  await pa.subscribe('bench.res', () => waiting?.());
  const plain = async (): Promise<void> => {
    const done = new Promise<void>((r) => {
      waiting = r;
    });
    await pa.publish('bench.req', { task: 'x' });
    await done;
  };
  const jit = async (): Promise<void> => {
    const c = await asker.proposeTo('doer', { action: 'work', terms: { task: 'x' } });
    if (c.state !== 'completed') throw new Error(`the conversation ended ${c.state}`);
  };
  const lat: number[] = [];
  const base: number[] = [];
  // warm-up: past the JIT compiler's tiers, so the tail measured is the steady state's
  for (let i = 0; i < 200; i++) {
    await jit();
    await plain();
  }
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await jit();
    lat.push(performance.now() - t);
    t = performance.now();
    await plain();
    base.push(performance.now() - t);
  }
  await asker.close();
  await doer.close();
  await pa.close();
  await pb.close();
  const q = (xs: number[], p: number): number =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
  return {
    n,
    p50Ms: q(lat, 0.5),
    p99Ms: q(lat, 0.99),
    baselineP50Ms: q(base, 0.5),
    baselineP99Ms: q(base, 0.99),
  };
}
