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
