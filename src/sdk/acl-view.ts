import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { staticVerifier, type Verdict, type Verifier } from '../identity/index.js';
import type { Message, Refusal } from '../mp/index.js';
import { checkRule, Policy, type Role, swsOfResource } from '../policy/index.js';

const debug = debuglog('jit:sdk:acl');

/** What the view asks jitd (an `RpcClient`). */
export interface AclSource {
  call(op: string, payload: CborValue, opts?: { signal?: AbortSignal }): Promise<CborValue>;
}

/**
 * The members of an SWS (owner, delegates, added members) are asked again when they would refuse
 * a message: up to ASK_BURST times at once, then once every ASK_EVERY_MS (a flood of refused
 * messages costs jitd a few calls a second, no more).
 */
const ASK_BURST = 8;
const ASK_EVERY_MS = 250;
/** SWSs whose members are kept before the view starts over (bounded memory). */
const MAX_SWSS = 4096;
const SWS_ID = /^[0-9a-f]{32}$/;

interface Members {
  /** The owner and the delegates (members for good). */
  readonly finishers: ReadonlySet<string>;
  members: Set<string>;
  /** Asks left, as of `at` (performance.now()). */
  tokens: number;
  at: number;
}

type M = Record<string, CborValue>;

/**
 * The kernel's ACL as seen from an agent's own plane (issue 6: "enforce at every subscriber the
 * plane controls"): on a broker an agent can publish past jitd, so each agent's plane asks, of
 * every message whose signature has verified, whether its sender may publish on its topic, with
 * the kernel's own `Policy` over the rules (`acl.list`), the roles (`agent.list`) and the members
 * of the SWS the topic names (`shadow.status`). It follows `jit.kernel.policy` (members, rules and
 * agents changing, kernel-signed); an SWS it has not seen yet is asked for before its first
 * message is let through, and one whose members would refuse a message is asked again (a few at
 * once, then four times a second at most), so a member added a moment ago is not refused because
 * its message came before the event.
 *
 * Its `verifier` follows the trust store the same way: an agent added after this one connected
 * is checked with its key from the `agents` event on.
 */
export class AclView {
  private readonly rpc: AclSource;
  private readonly policy = new Policy((sws, agent) => this.isMember(sws, agent));
  private digest = '';
  private roles = new Map<string, Role>();
  private fingerprints = new Map<string, string>();
  private keys: Verifier = staticVerifier([]);
  private rev = 0;
  private readonly swss = new Map<string, Members>();
  private readonly asking = new Map<string, Promise<void>>();
  private closed = false;

  /** Checks signatures with the keys of the trust store as jitd last told. */
  readonly verifier: Verifier;

  private constructor(rpc: AclSource) {
    this.rpc = rpc;
    const view = this;
    this.verifier = {
      verify: (agent, message, sig) => this.keys.verify(agent, message, sig),
      get revision() {
        return view.rev;
      },
    };
  }

  /** Reads the rules and the trust store from jitd. */
  static async load(rpc: AclSource, opts: { signal?: AbortSignal } = {}): Promise<AclView> {
    const v = new AclView(rpc);
    await v.refresh(opts);
    return v;
  }

  /** Reads the rules and the trust store again (the members of SWSs are asked as needed). */
  async refresh(opts: { signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all([this.loadRules(opts.signal), this.loadAgents(opts.signal)]);
  }

  /** An agent's key fingerprint, as the trust store binds it (JITNA's `PacketKeys`). */
  get(agent: string): { readonly fingerprint: string } | undefined {
    const f = this.fingerprints.get(agent);
    return f === undefined ? undefined : { fingerprint: f };
  }

  /** Checks a signature with the agent's bound key (JITNA's `PacketKeys`). */
  verify(agent: string, message: Uint8Array, sig: Uint8Array): Verdict {
    return this.keys.verify(agent, message, sig);
  }

  /** The digest of the rules held (as `acl.list` gives it). */
  get rulesDigest(): string {
    return this.digest;
  }

  /** The plane's `authorize`: undefined lets the message through; a promise when it must ask. */
  readonly authorize = (
    sender: string,
    topic: string,
  ): Refusal | undefined | Promise<Refusal | undefined> => {
    const named = swsOfResource(topic);
    const sws = named !== undefined && SWS_ID.test(named) ? named : undefined;
    const known = sws === undefined ? undefined : this.swss.get(sws);
    if (sws !== undefined && known === undefined)
      return this.askMembers(sws).then(() => this.decide(sender, topic));
    const no = this.decide(sender, topic);
    // refused where membership decides: the members may have changed since they were asked
    if (no !== undefined && sws !== undefined && known !== undefined && this.mayAsk(known))
      return this.askMembers(sws).then(() => this.decide(sender, topic));
    return no;
  };

  private mayAsk(m: Members): boolean {
    const now = performance.now();
    m.tokens = Math.min(ASK_BURST, m.tokens + (now - m.at) / ASK_EVERY_MS);
    m.at = now;
    if (m.tokens < 1) return false;
    m.tokens--;
    return true;
  }

  private decide(sender: string, topic: string): Refusal | undefined {
    const role = this.roles.get(sender);
    if (role === undefined)
      return { refuse: 'denied', detail: `${sender} is not in the trust store` };
    const d = this.policy.decide({ agent: sender, role }, 'publish', topic);
    return d.allowed ? undefined : { refuse: 'denied', detail: d.reason };
  }

  private isMember(sws: string, agent: string): boolean {
    const m = this.swss.get(sws);
    return m !== undefined && (m.finishers.has(agent) || m.members.has(agent));
  }

  /** Hears one `jit.kernel.policy` event (the Agent subscribes it here). */
  readonly onEvent = (m: Message): void => {
    const p = m.payload as M | null;
    if (this.closed || p === null || typeof p !== 'object') return;
    const fail = (what: string) => (e: unknown) => debug('cannot reload %s: %o', what, e);
    if (p.event === 'members' && typeof p.sws === 'string' && Array.isArray(p.members)) {
      const known = this.swss.get(p.sws);
      if (known !== undefined) known.members = new Set(p.members as string[]);
    } else if (p.event === 'acl' && p.digest !== this.digest)
      this.loadRules().catch(fail('the ACL rules'));
    else if (p.event === 'agents') this.loadAgents().catch(fail('the trust store'));
  };

  private askMembers(sws: string): Promise<void> {
    let p = this.asking.get(sws);
    if (p !== undefined) return p;
    p = this.rpc
      .call('shadow.status', { id: sws })
      .then(
        (r) => {
          const s = r as M;
          return {
            finishers: new Set([s.owner as string, ...((s.delegates ?? []) as string[])]),
            members: new Set((s.members ?? []) as string[]),
          };
        },
        (e: unknown) => {
          // no such SWS, or not one this agent may see: nobody is known to be a member
          debug('members of %s unknown: %s', sws, (e as Error).message);
          return { finishers: new Set<string>(), members: new Set<string>() };
        },
      )
      .then((m) => {
        const before = this.swss.get(sws);
        if (before === undefined && this.swss.size >= MAX_SWSS) this.swss.clear();
        this.swss.set(sws, {
          ...m,
          tokens: before?.tokens ?? ASK_BURST - 1,
          at: before?.at ?? performance.now(),
        });
      })
      .finally(() => this.asking.delete(sws));
    this.asking.set(sws, p);
    return p;
  }

  private async loadRules(signal?: AbortSignal): Promise<void> {
    const r = (await this.rpc.call('acl.list', {}, signal ? { signal } : {})) as {
      rules: CborValue[];
      digest: string;
    };
    this.policy.setRules(r.rules.map(checkRule));
    this.digest = r.digest;
  }

  private async loadAgents(signal?: AbortSignal): Promise<void> {
    const { agents } = (await this.rpc.call('agent.list', {}, signal ? { signal } : {})) as {
      agents: { agent: string; public_key: string; fingerprint: string; role: Role }[];
    };
    this.roles = new Map(agents.map((a) => [a.agent, a.role]));
    this.fingerprints = new Map(agents.map((a) => [a.agent, a.fingerprint]));
    this.keys = staticVerifier(
      agents.map((a) => [a.agent, Uint8Array.from(Buffer.from(a.public_key, 'hex'))] as const),
    );
    this.rev++;
  }

  /** Stops following events (what is in flight lands and is ignored). Idempotent. */
  close(): void {
    this.closed = true;
  }
}
