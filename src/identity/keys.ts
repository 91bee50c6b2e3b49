import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { blake3Prefixed, HASH_BYTES, toHex } from '../codec/index.js';
import { IdentityInputError, KeyFileError, KeyPermissionError } from './errors.js';

/** Bytes of an Ed25519 public key and of a signature. */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw key follows
const SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

// DER prefix of an Ed25519 PKCS#8 private key (RFC 8410): the 32-byte seed follows
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** The key fingerprint of DESIGN §7: lowercase hex SHA-256 of the raw 32-byte public key. */
export function fingerprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** Public keys made so far, by raw bytes (hex): every trust store view shares them. */
const keyObjects = new Map<string, KeyObject>();
/** The raw bytes of each public key made here (the verification cache names keys by them). */
const rawOf = new WeakMap<KeyObject, Uint8Array>();
const KEY_CACHE = 4096;

/** A node:crypto public key from the raw 32 bytes. */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== PUBLIC_KEY_BYTES)
    throw new IdentityInputError(`an Ed25519 public key is 32 bytes, not ${raw.length}`);
  const hex = Buffer.from(raw).toString('hex');
  const known = keyObjects.get(hex);
  if (known !== undefined) return known;
  const der = new Uint8Array(SPKI_PREFIX.length + PUBLIC_KEY_BYTES);
  der.set(SPKI_PREFIX);
  der.set(raw, SPKI_PREFIX.length);
  const k = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  if (keyObjects.size >= KEY_CACHE) keyObjects.delete(keyObjects.keys().next().value!);
  keyObjects.set(hex, k);
  rawOf.set(k, Uint8Array.from(raw));
  return k;
}

/**
 * Signatures that verified, by BLAKE3 of (public key, signature, message): each plane in a
 * process checks what it receives, so a broadcast heard by many agents of one process (a demo
 * swarm, jitd's kernel plane and its dashboard) costs one Ed25519 check instead of one each.
 * Sound because verification is a pure function of those three; only successes are kept.
 */
const verified = new Map<string, true>();
const VERIFIED_CACHE = 8192;

/** The key and the signature side by side, and the cache key's digest (reused). */
const keyAndSig = new Uint8Array(PUBLIC_KEY_BYTES + SIGNATURE_BYTES);
const idDigest = new Uint8Array(HASH_BYTES);

/**
 * The verification cache's key: BLAKE3 of (key, signature, message), the one-chunk JavaScript
 * hash for messages of up to ~900 bytes (a hit costs no WebAssembly call and no array). The key
 * and the signature have fixed sizes, so the concatenation is unambiguous.
 */
function verifiedId(raw: Uint8Array, sig: Uint8Array, message: Uint8Array): string {
  keyAndSig.set(raw);
  keyAndSig.set(sig, PUBLIC_KEY_BYTES);
  return toHex(blake3Prefixed(0, keyAndSig, message, idDigest, 0));
}

/** Verifies an Ed25519 signature; false for a signature of the wrong size. */
export function verifyEd25519(key: KeyObject, message: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== SIGNATURE_BYTES) return false;
  const raw = rawOf.get(key);
  if (raw === undefined) return verify(null, message, key, sig);
  const id = verifiedId(raw, sig, message);
  if (verified.has(id)) return true;
  if (!verify(null, message, key, sig)) return false;
  if (verified.size >= VERIFIED_CACHE) verified.delete(verified.keys().next().value!);
  verified.set(id, true);
  return true;
}

/**
 * An Ed25519 key pair. The private half never leaves the object except through `save` (a 0600
 * PKCS#8 PEM file); `toString` and `toJSON` show only the fingerprint, so a key logged by mistake
 * leaks nothing.
 */
export class KeyPair {
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly #private: KeyObject;

  private constructor(priv: KeyObject) {
    this.#private = priv;
    const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - PUBLIC_KEY_BYTES));
    this.fingerprint = fingerprint(this.publicKey);
  }

  /** The key pair of a 32-byte Ed25519 seed (RFC 8032): deterministic, for fixtures and tests. */
  static fromSeed(seed: Uint8Array): KeyPair {
    if (seed.length !== 32)
      throw new IdentityInputError(`an Ed25519 seed is 32 bytes, not ${seed.length}`);
    const der = new Uint8Array(PKCS8_PREFIX.length + 32);
    der.set(PKCS8_PREFIX);
    der.set(seed, PKCS8_PREFIX.length);
    return new KeyPair(createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }));
  }

  static generate(): KeyPair {
    return new KeyPair(generateKeyPairSync('ed25519').privateKey);
  }

  /** Reads a private key file written by `save` (or by `openssl genpkey -algorithm ed25519`). */
  static async load(path: string, opts: { signal?: AbortSignal } = {}): Promise<KeyPair> {
    let pem: string;
    try {
      const st = await stat(path);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new KeyPermissionError(
          `key file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\``,
          { path },
        );
      }
      pem = await readFile(path, { encoding: 'utf8', signal: opts.signal });
    } catch (e) {
      if (e instanceof KeyPermissionError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new KeyFileError(
        code === 'ENOENT'
          ? `no key file at ${path} (create one with \`jit keygen --out ${path}\`)`
          : `cannot read key file ${path}: ${code ?? (e as Error).message}`,
        { path },
        { cause: e },
      );
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (e) {
      throw new KeyFileError(`${path} does not hold a PEM private key`, { path }, { cause: e });
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new KeyFileError(
        `${path} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
        { path },
      );
    return new KeyPair(key);
  }

  /**
   * Writes the private key as PKCS#8 PEM with mode 0600: to a temporary file first, synced, then
   * renamed over `path`, so a crash never leaves half a key. Refuses to replace an existing file
   * unless `overwrite`.
   */
  async save(
    path: string,
    opts: { overwrite?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    opts.signal?.throwIfAborted();
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    if (!opts.overwrite) {
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (exists)
        throw new KeyFileError(`${path} already exists (pass --force to replace it)`, { path });
    }
    const pem = this.#private.export({ format: 'pem', type: 'pkcs8' }) as string;
    const tmp = `${path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(pem);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#private));
  }

  toString(): string {
    return `KeyPair(${this.fingerprint})`;
  }

  toJSON(): { fingerprint: string } {
    return { fingerprint: this.fingerprint };
  }
}
