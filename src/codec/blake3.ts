import { createBLAKE3 } from 'hash-wasm';

/**
 * BLAKE3-256. hash-wasm's WebAssembly build: about 15× @noble/hashes on 4 KiB inputs on this
 * project's machines (docs/PERFORMANCE.md), pure WASM, no install step. The module instantiates once
 * at import (top-level await), so hashing is synchronous afterwards.
 */
const hasher = await createBLAKE3(256);

export const HASH_BYTES = 32;

/** BLAKE3-256 of the concatenation of `parts`. */
export function blake3(...parts: Uint8Array[]): Uint8Array {
  hasher.init();
  for (const p of parts) hasher.update(p);
  return hasher.digest('binary');
}

/** BLAKE3-256 of `data` as 64 lowercase hex characters. */
export function blake3Hex(...parts: Uint8Array[]): string {
  hasher.init();
  for (const p of parts) hasher.update(p);
  return hasher.digest('hex');
}

/** Constant-shape comparison of two digests (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * BLAKE3-256 of the concatenation of `parts` (any size), fed 1 MiB at a time with `pause` awaited
 * in between, so hashing tens of megabytes does not hold the event loop. It has a hasher of its
 * own: the synchronous functions here may run meanwhile.
 */
export async function blake3Paced(
  parts: readonly Uint8Array[],
  pause: () => Promise<void>,
): Promise<Uint8Array> {
  const h = await createBLAKE3(256);
  for (const p of parts)
    for (let at = 0; at < p.length; at += PACED_STEP) {
      h.update(p.subarray(at, at + PACED_STEP));
      await pause();
    }
  return h.digest('binary');
}

const PACED_STEP = 1024 * 1024;

/** BLAKE3-256 of the bytes `feed` passes to its `update` callback, in order. */
export function blake3Stream(feed: (update: (part: Uint8Array) => void) => void): Uint8Array {
  hasher.init();
  feed((part) => hasher.update(part));
  return hasher.digest('binary');
}
