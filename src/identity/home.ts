import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrustStoreError } from './errors.js';
import { KeyPair } from './keys.js';
import { keySigner, type Signer } from './signer.js';
import { TrustStore } from './trust.js';

/** The agent id the kernel signs as. */
export const KERNEL_AGENT = 'jit-kernel';
/** The agent id of the local administrator key made at `init`. */
export const ADMIN_AGENT = 'admin';

/** Where a data directory keeps its keys and trust store. */
export function identityPaths(home: string): {
  dir: string;
  kernelKey: string;
  adminKey: string;
  trust: string;
} {
  const dir = join(home, 'keys');
  return {
    dir,
    kernelKey: join(dir, 'kernel.key'),
    adminKey: join(dir, 'admin.key'),
    trust: join(home, 'trust.cbor'),
  };
}

async function loadOrMake(path: string, signal: AbortSignal | undefined): Promise<KeyPair> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) return KeyPair.load(path, signal ? { signal } : {});
  const k = KeyPair.generate();
  await k.save(path, signal ? { signal } : {});
  return k;
}

/**
 * The identity of a data directory: the kernel's key and the admin key (made on first use, 0600
 * under `keys/`), and the trust store with both bound (`jit-kernel` as kernel, `admin` as admin).
 * A trust store that binds either id to another key is refused: someone replaced a key file.
 */
export async function openHomeIdentity(
  home: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ kernelKey: KeyPair; trust: TrustStore }> {
  const p = identityPaths(home);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const kernelKey = await loadOrMake(p.kernelKey, opts.signal);
  const adminKey = await loadOrMake(p.adminKey, opts.signal);
  const trust = await TrustStore.open(p.trust, opts);
  for (const [agent, key, role] of [
    [KERNEL_AGENT, kernelKey, 'kernel'],
    [ADMIN_AGENT, adminKey, 'admin'],
  ] as const) {
    const bound = trust.get(agent);
    if (bound !== undefined && bound.fingerprint !== key.fingerprint)
      throw new TrustStoreError(
        `the trust store binds ${agent} to key ${bound.fingerprint.slice(0, 16)}… but ${agent === KERNEL_AGENT ? p.kernelKey : p.adminKey} holds ${key.fingerprint.slice(0, 16)}…`,
        { agent },
      );
    if (bound === undefined) await trust.add({ agent, publicKey: key.publicKey, role }, opts);
  }
  return { kernelKey, trust };
}

/** The signer of a data directory's admin key (for the operator's own tools: the CLI, tests). */
export async function adminSigner(
  home: string,
  opts: { signal?: AbortSignal } = {},
): Promise<Signer> {
  return keySigner(ADMIN_AGENT, await KeyPair.load(identityPaths(home).adminKey, opts));
}
