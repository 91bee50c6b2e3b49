import type { KeyObject } from 'node:crypto';
import { type KeyPair, publicKeyObject, verifyEd25519 } from './keys.js';

/**
 * Signs outgoing messages as one agent. The plane only ever calls this interface, so a scheme
 * that signs a batch (a Merkle root over many envelopes) can replace per-message signatures
 * without touching the plane.
 */
export interface Signer {
  readonly agent: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** What checking a signature found. */
export type Verdict = 'ok' | 'unknown-sender' | 'bad-signature';

/** Checks that `sig` is `agent`'s signature over `message`. */
export interface Verifier {
  verify(agent: string, message: Uint8Array, sig: Uint8Array): Verdict;
  /**
   * Changes whenever a binding changes (an agent added or removed), so that what was verified
   * against the old bindings and kept (a batch's authenticated nodes) is dropped. Absent for a
   * verifier whose bindings never change.
   */
  readonly revision?: number;
}

/** A Signer backed by an Ed25519 key pair. */
export function keySigner(agent: string, key: KeyPair): Signer {
  return { agent, publicKey: key.publicKey, sign: (m) => key.sign(m) };
}

/** A Verifier over a fixed set of agents and raw public keys (tests, small deployments). */
export function staticVerifier(keys: Iterable<readonly [string, Uint8Array]>): Verifier {
  const objects = new Map<string, KeyObject>();
  for (const [agent, raw] of keys) objects.set(agent, publicKeyObject(raw));
  return {
    verify(agent, message, sig) {
      const k = objects.get(agent);
      if (k === undefined) return 'unknown-sender';
      return verifyEd25519(k, message, sig) ? 'ok' : 'bad-signature';
    },
  };
}
