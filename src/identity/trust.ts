import type { KeyObject } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decode, encode } from '../codec/index.js';
import {
  AgentExistsError,
  IdentityInputError,
  TrustStoreError,
  UnknownAgentError,
} from './errors.js';
import { fingerprint, PUBLIC_KEY_BYTES, publicKeyObject, verifyEd25519 } from './keys.js';
import type { Verdict, Verifier } from './signer.js';

/**
 * `kernel`: the daemon's own key; `admin`: may change the trust store and the ACL; `agent`: an
 * ordinary agent; `restricted`: a sandboxed (untrusted, LLM) agent that may only work inside the
 * SWSs it is a member of (security level 2 in JITNA's terms).
 */
export type AgentRole = 'kernel' | 'admin' | 'agent' | 'restricted';
export const ROLES: readonly AgentRole[] = ['kernel', 'admin', 'agent', 'restricted'];

export interface TrustedAgent {
  readonly agent: string;
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  readonly role: AgentRole;
}

const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Throws unless `id` is an agent id: 1–64 of letters, digits, `_` and `-`, not starting with `_`/`-`. */
export function checkAgentId(id: unknown): string {
  if (typeof id !== 'string' || !AGENT_ID.test(id))
    throw new IdentityInputError(
      `agent id ${JSON.stringify(id)} is not 1-64 letters, digits, "_" or "-" (starting with a letter or digit)`,
    );
  return id;
}

interface Entry {
  readonly info: TrustedAgent;
  readonly key: KeyObject;
}

/**
 * Agent ids bound to Ed25519 public keys (DESIGN §7): the kernel's trust store. It verifies
 * signatures for the plane and, when opened on a file, keeps itself there as canonical CBOR
 * (agents sorted by id), replaced atomically on every change.
 */
export class TrustStore implements Verifier {
  private readonly entries = new Map<string, Entry>();
  private readonly path: string | undefined;
  private changes = 0;

  private constructor(path: string | undefined) {
    this.path = path;
  }

  /** A store that lives only in memory. */
  static memory(agents: Iterable<Omit<TrustedAgent, 'fingerprint'>> = []): TrustStore {
    const t = new TrustStore(undefined);
    for (const a of agents) t.insert(a);
    return t;
  }

  /** Opens the store kept at `path` (an absent file is an empty store). */
  static async open(path: string, opts: { signal?: AbortSignal } = {}): Promise<TrustStore> {
    const t = new TrustStore(path);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path, { signal: opts.signal });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return t;
      throw new TrustStoreError(`cannot read the trust store ${path}`, { path }, { cause: e });
    }
    try {
      for (const v of decode(bytes) as { agent: string; public_key: Uint8Array; role: AgentRole }[])
        t.insert({ agent: v.agent, publicKey: v.public_key, role: v.role });
    } catch (e) {
      throw new TrustStoreError(`the trust store ${path} is damaged`, { path }, { cause: e });
    }
    return t;
  }

  private insert(a: Omit<TrustedAgent, 'fingerprint'>): TrustedAgent {
    checkAgentId(a.agent);
    if (!(a.publicKey instanceof Uint8Array) || a.publicKey.length !== PUBLIC_KEY_BYTES)
      throw new IdentityInputError(`the public key of ${a.agent} is not 32 bytes`);
    if (!ROLES.includes(a.role))
      throw new IdentityInputError(
        `role ${JSON.stringify(a.role)} is not one of ${ROLES.join(', ')}`,
      );
    const publicKey = new Uint8Array(a.publicKey);
    const info = { agent: a.agent, publicKey, fingerprint: fingerprint(publicKey), role: a.role };
    this.entries.set(a.agent, { info, key: publicKeyObject(publicKey) });
    this.changes++;
    return info;
  }

  /** Bumped by every change of a binding (see Verifier.revision). */
  get revision(): number {
    return this.changes;
  }

  get(agent: string): TrustedAgent | undefined {
    return this.entries.get(agent)?.info;
  }

  /** Every agent, sorted by id. */
  list(): TrustedAgent[] {
    return [...this.entries.values()]
      .map((e) => e.info)
      .sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  }

  /**
   * Binds `agent` to `publicKey`. Adding the same binding again changes nothing (idempotent);
   * binding a taken id to another key is refused. Persisted before it resolves.
   */
  async add(
    a: Omit<TrustedAgent, 'fingerprint'>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ agent: TrustedAgent; added: boolean }> {
    opts.signal?.throwIfAborted();
    checkAgentId(a.agent);
    const old = this.entries.get(a.agent);
    if (old !== undefined) {
      const same =
        old.info.role === a.role && Buffer.compare(old.info.publicKey, a.publicKey) === 0;
      if (same) return { agent: old.info, added: false };
      throw new AgentExistsError(
        `agent ${a.agent} is already bound to key ${old.info.fingerprint.slice(0, 16)}… (remove it first)`,
        { agent: a.agent },
      );
    }
    const info = this.insert(a);
    try {
      await this.persist();
    } catch (e) {
      this.entries.delete(a.agent);
      this.changes++;
      throw e;
    }
    return { agent: info, added: true };
  }

  /** Unbinds `agent`; resolves false when it was not there. Persisted before it resolves. */
  async remove(agent: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    opts.signal?.throwIfAborted();
    const old = this.entries.get(agent);
    if (old === undefined) return false;
    this.entries.delete(agent);
    this.changes++;
    try {
      await this.persist();
    } catch (e) {
      this.entries.set(agent, old);
      this.changes++;
      throw e;
    }
    return true;
  }

  /** The agent, or a typed error naming it. */
  require(agent: string): TrustedAgent {
    const a = this.get(agent);
    if (a === undefined)
      throw new UnknownAgentError(
        `agent ${agent} is not in the trust store (add it with \`jit agent add\`)`,
        {
          agent,
        },
      );
    return a;
  }

  verify(agent: string, message: Uint8Array, sig: Uint8Array): Verdict {
    const e = this.entries.get(agent);
    if (e === undefined) return 'unknown-sender';
    return verifyEd25519(e.key, message, sig) ? 'ok' : 'bad-signature';
  }

  /** The canonical bytes of the store (what the file holds). */
  encode(): Uint8Array {
    return encode(
      this.list().map((a) => ({ agent: a.agent, public_key: a.publicKey, role: a.role })),
    );
  }

  private async persist(): Promise<void> {
    if (this.path === undefined) return;
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(this.encode());
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), 'r');
      await dir.sync().finally(() => dir.close());
    } catch (e) {
      throw new TrustStoreError(
        `cannot write the trust store ${this.path}`,
        { path: this.path },
        { cause: e },
      );
    }
  }
}
