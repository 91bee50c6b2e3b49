import type { CborValue } from '../codec/index.js';
import { KeyPair, keySigner, type Signer, type Verifier } from '../identity/index.js';
import type { PacketKeys } from '../jitna/index.js';
import {
  type MemoryBroker,
  type Message,
  openTransport,
  Plane,
  type PlaneSubscription,
  Topics,
} from '../mp/index.js';
import { RemoteError, RpcClient } from '../rpc/index.js';
import { resolveHome, socketPath } from '../util/home.js';
import { AclView } from './acl-view.js';
import { Assembler } from './assembly.js';
import { JitnaAgent, type JitnaAgentOptions } from './jitna-agent.js';

/** A finding an analyzer publishes on `jit.sws.<id>.analyze`. */
export interface Finding {
  readonly path: string;
  readonly range?: readonly [number, number];
  readonly severity: 'info' | 'warning' | 'error';
  readonly message: string;
}

export interface AgentOptions {
  /** The agent id (bound to `key` in the kernel's trust store). */
  readonly agent: string;
  /** The agent's key pair, or the path of its key file. */
  readonly key: KeyPair | string;
  /**
   * Where the plane is: `jit://host:port` (jitd's TCP), a socket path, `nats://host:4222` (when
   * jitd runs with `--plane` on that URL), or `memory:` (in process: pass `broker`). Default:
   * $JIT_PLANE, else the socket of the data directory (`--home`, $JIT_HOME, ./.jit).
   */
  readonly plane?: string;
  /**
   * Where jitd answers RPC (opening SWSs, the trust store): a socket path or `jit://host:port`.
   * Default: the plane's address when it is jitd's, else the data directory's socket.
   */
  readonly kernel?: string;
  readonly broker?: MemoryBroker;
  /**
   * Checks signatures; default: the trust store as jitd lists it, followed as it changes
   * (`AclView`).
   */
  readonly verifier?: Verifier;
  /**
   * Refuse, at this agent's own subscriptions, messages the kernel's ACL forbids their sender to
   * publish (default true with jitd: on a broker, a hostile agent can publish past jitd).
   */
  readonly checkAcl?: boolean;
  readonly signal?: AbortSignal;
}

function where(url: string): { path: string } | { host: string; port: number } {
  const m = /^jit:\/\/([^:/]+):(\d+)\/?$/.exec(url);
  if (m !== null) return { host: m[1]!, port: Number(m[2]) };
  return { path: url };
}

/**
 * An agent on the Message Plane: connects with its key, opens or joins shadow working sets,
 * publishes patches and commits as signed commands that are retried until the kernel answers,
 * and exchanges findings with other agents.
 */
export class Agent {
  readonly id: string;
  readonly plane: Plane;
  /** RPC to jitd (absent on `memory:`). */
  readonly rpc: RpcClient | undefined;

  /** The ACL and trust store as jitd last told (absent on `memory:`). */
  readonly acl: AclView | undefined;

  /** Signs as this agent (its key stays inside). */
  readonly signer: Signer;

  private constructor(
    id: string,
    plane: Plane,
    signer: Signer,
    rpc: RpcClient | undefined,
    acl?: AclView,
  ) {
    this.id = id;
    this.plane = plane;
    this.signer = signer;
    this.rpc = rpc;
    this.acl = acl;
  }

  /**
   * Speaks JITNA on this agent's plane (sdk/jitna-agent.ts): announces `capabilities` (when
   * given) and answers proposals with `onProposal`; `discover` and `negotiate` to ask others.
   * Packets are checked against the trust store as jitd last told (needs jitd, not memory:).
   */
  jitna(
    o: Omit<JitnaAgentOptions, 'plane' | 'signer' | 'keys'> & { keys?: PacketKeys } = {},
  ): Promise<JitnaAgent> {
    const keys = o.keys ?? this.acl;
    if (keys === undefined) throw new TypeError('JITNA on memory: needs keys (a TrustStore)');
    return JitnaAgent.start({ ...o, plane: this.plane, signer: this.signer, keys });
  }

  /**
   * A coordinator that assembles a working group just in time for each intent
   * (sdk/assembly.ts): over this agent's jitd (SWSs, membership, the audit trail) and its JITNA
   * agent (made here when not given). Needs jitd, not memory: without a kernel.
   */
  async assembler(o: { jitna?: JitnaAgent } = {}): Promise<Assembler> {
    if (this.rpc === undefined || this.acl === undefined)
      throw new TypeError('assembly needs jitd (give the agent a kernel address)');
    const jitna = o.jitna ?? (await this.jitna());
    return new Assembler({ jitna, kernel: this.rpc, keys: this.acl, signer: this.signer });
  }

  static async connect(o: AgentOptions): Promise<Agent> {
    const key = typeof o.key === 'string' ? await KeyPair.load(o.key) : o.key;
    const signer = keySigner(o.agent, key);
    const url = o.plane ?? process.env.JIT_PLANE ?? socketPath(resolveHome());
    const transport =
      url === 'memory:' && o.broker !== undefined
        ? o.broker.connect()
        : openTransport(url, { login: signer, ...(o.broker ? { broker: o.broker } : {}) });
    // jitd's own relay (a socket path or jit://) is also its RPC address; a broker URL is not
    const brokerUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('jit://');
    const kernel =
      o.kernel ?? (url === 'memory:' ? undefined : brokerUrl ? socketPath(resolveHome()) : url);
    const rpc =
      kernel === undefined
        ? undefined
        : await RpcClient.connect(where(kernel), {
            login: signer,
            ...(o.signal ? { signal: o.signal } : {}),
          });
    if (o.verifier === undefined && rpc === undefined)
      throw new TypeError('plane "memory:" needs a verifier');
    const signal = o.signal ? { signal: o.signal } : {};
    const view = rpc === undefined ? undefined : await AclView.load(rpc, signal);
    const acl = o.checkAcl !== false ? view : undefined;
    const plane = await Plane.open({
      transport,
      sender: o.agent,
      signer,
      verifier: o.verifier ?? view!.verifier,
      ...(acl ? { authorize: acl.authorize } : {}),
      ...signal,
    });
    if (view !== undefined) {
      // follow the changes, then read once more what may have changed before this subscription
      await plane.subscribe(Topics.kernelPolicy, view.onEvent);
      await view.refresh(signal);
    }
    return new Agent(o.agent, plane, signer, rpc, view);
  }

  /** Opens a new SWS on `ref` owned by this agent (over RPC); returns its id. */
  async openSws(
    opts: { ref?: string; delegates?: string[]; signal?: AbortSignal } = {},
  ): Promise<string> {
    if (this.rpc === undefined) throw new TypeError('opening an SWS needs jitd (not memory:)');
    const r = (await this.rpc.call(
      'shadow.create',
      { ref: opts.ref ?? 'main', owner: this.id, delegates: opts.delegates ?? [] },
      opts.signal ? { signal: opts.signal } : {},
    )) as { id: string };
    return r.id;
  }

  /**
   * Lets `agent` read, patch and follow the SWS's topics (`shadow.add_member`); only its owner or
   * a delegate may. `remove` takes it back.
   */
  async addMember(
    sws: string,
    agent: string,
    opts: { remove?: boolean; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    if (this.rpc === undefined) throw new TypeError('membership needs jitd (not memory:)');
    const r = (await this.rpc.call(
      opts.remove === true ? 'shadow.remove_member' : 'shadow.add_member',
      { id: sws, agent },
      opts.signal ? { signal: opts.signal } : {},
    )) as { members: string[] };
    return r.members;
  }

  private async command(
    sws: string,
    kind: 'patch' | 'commit' | 'discard' | 'analyze',
    payload: CborValue,
    signal?: AbortSignal,
  ): Promise<CborValue> {
    const topic = {
      patch: Topics.swsPatch,
      commit: Topics.swsCommit,
      discard: Topics.swsDiscard,
      analyze: Topics.swsAnalyze,
    }[kind](sws);
    const a = (await this.plane.command(topic, payload, {
      statusTopic: Topics.swsStatus(sws),
      ...(signal ? { signal } : {}),
    })) as {
      ok: boolean;
      result?: CborValue;
      error?: { code: number; name: string; message: string };
    };
    if (a.ok) return a.result ?? null;
    throw new RemoteError(a.error!.code, a.error!.message, { error: a.error!.name });
  }

  /** Publishes a patch (its ops) to the SWS and resolves with the kernel's answer. */
  patch(
    sws: string,
    ops: readonly CborValue[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<CborValue> {
    return this.command(sws, 'patch', { patch: { author: this.id, ops: [...ops] } }, opts.signal);
  }

  commit(sws: string, opts: { message?: string; signal?: AbortSignal } = {}): Promise<CborValue> {
    return this.command(
      sws,
      'commit',
      opts.message === undefined ? {} : { message: opts.message },
      opts.signal,
    );
  }

  discard(sws: string, opts: { signal?: AbortSignal } = {}): Promise<CborValue> {
    return this.command(sws, 'discard', {}, opts.signal);
  }

  /**
   * Publishes a finding on the SWS's analyze topic and resolves once the kernel has recorded it
   * (it shows in `shadow.status` and goes into the snapshot's provenance on collapse).
   */
  async analyze(sws: string, f: Finding, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.command(
      sws,
      'analyze',
      {
        kind: 'finding',
        path: f.path,
        severity: f.severity,
        message: f.message,
        ...(f.range ? { range: [...f.range] } : {}),
      },
      opts.signal,
    );
  }

  /** Calls `handler` with each finding published on the SWS's analyze topic. */
  findings(
    sws: string,
    handler: (f: Finding & { author: string }, m: Message) => unknown,
  ): Promise<PlaneSubscription> {
    return this.plane.subscribe(Topics.swsAnalyze(sws), (m) => {
      const p = m.payload as Record<string, CborValue> | null;
      if (p?.kind !== 'finding') return;
      return handler({ ...(p as unknown as Finding), author: m.sender }, m);
    });
  }

  async close(): Promise<void> {
    this.acl?.close();
    await this.plane.close();
    await this.rpc?.close();
  }
}
