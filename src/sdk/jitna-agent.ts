import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { type Codex, describeRefusal } from '../governance/index.js';
import { fingerprint, type Signer } from '../identity/index.js';
import {
  BROADCAST,
  type CapabilityCard,
  type CapabilityQuery,
  CapabilityRegistry,
  createPacket,
  type JitnaPacket,
  type JsonMap,
  Negotiation,
  type NegotiationKind,
  type NegotiationState,
  negotiationMessageType,
  type Offer,
  type PacketKeys,
  type PacketVerdict,
  PacketVerifier,
  type StepFields,
  signPacket,
  stepOf,
  stepPayload,
  TERMINAL_STATES,
} from '../jitna/index.js';
import type { Message, Plane, PlaneSubscription } from '../mp/index.js';

const debug = debuglog('jit:jitna');

/** Where capability cards are announced (heartbeats, to everyone). */
export const REGISTRY_TOPIC = 'jit.jitna.registry';
/** An agent's inbox: the packets addressed to it. */
export const inboxTopic = (agent: string): string => `jit.jitna.agent.${agent}`;

/** What an agent declares it can do (its id and key fingerprint are filled in). */
export type Capabilities = Omit<CapabilityCard, 'adapter_id' | 'public_key_fingerprint'>;

/** A proposal put to this agent. */
export interface Proposal {
  readonly from: string;
  readonly conversation: string;
  readonly offer: Offer;
}

/**
 * How a responder answers a proposal: take it (`run` does the work; what it returns completes
 * the conversation, what it throws fails it), turn it down, or ask for other terms (`run`
 * then does the work if the initiator accepts them).
 */
export type ProposalAnswer =
  | { readonly accept: true; readonly run: RunWork }
  | { readonly reject: string }
  | { readonly counter: JsonMap; readonly run: RunWork };

/** Does agreed work; `signal` aborts when its time is up (with a codex) or the agent closes. */
export type RunWork = (
  terms: JsonMap,
  o: { readonly signal: AbortSignal },
) => Promise<JsonMap> | JsonMap;

export interface JitnaAgentOptions {
  /** This agent's plane (signed, verifying): JITNA packets travel in its envelopes. */
  readonly plane: Plane;
  /** Signs this agent's packets (the plane's sender). */
  readonly signer: Signer;
  /** Whose keys packets are checked against: the trust store. */
  readonly keys: PacketKeys;
  /** What it offers; without it the agent only asks others. */
  readonly capabilities?: Capabilities;
  /** Answers proposals (needed with capabilities). */
  readonly onProposal?: (p: Proposal) => ProposalAnswer | Promise<ProposalAnswer>;
  /** Heartbeat period (default 5 s); cards are dropped after three missed. */
  readonly heartbeatMs?: number;
  /**
   * Ask the others to announce themselves at start, rather than wait for their next heartbeat
   * (default true). An agent that only answers proposals never discovers anyone and may skip it:
   * in a swarm started at once, every ask makes every agent announce.
   */
  readonly solicit?: boolean;
  /** How long an open offer waits for an answer (default 10 s). */
  readonly stepTimeoutMs?: number;
  /**
   * The 9 Codex: every proposal passes its admission checks before `onProposal` sees it (a
   * refusal rejects it with the rule and the reason), and agreed work runs inside its frame
   * (limits, audit, redaction, failure as FAIL).
   */
  readonly codex?: Codex;
  /** Most conversations one peer may hold open with this agent (default 64); more are dropped. */
  readonly maxOpenPerPeer?: number;
}

/** What `negotiate` asks for. */
export interface Task extends CapabilityQuery {
  readonly terms: JsonMap;
  /** Whether to take a counter-offer's terms (default: never). */
  readonly acceptCounter?: (terms: JsonMap, from: string) => boolean;
  /** How long the whole conversation, work included, may take (default 60 s). */
  readonly deadlineMs?: number;
  /** How many agents to try, best first, when one rejects (default 3). */
  readonly attempts?: number;
  readonly signal?: AbortSignal;
}

export interface NegotiationResult {
  readonly state: NegotiationState;
  /** Who did (or last refused) the work. */
  readonly agent: string | undefined;
  readonly result?: JsonMap;
  readonly reason?: string;
  /** Each agent asked, and how its conversation ended. */
  readonly tried: readonly { agent: string; state: NegotiationState; reason?: string }[];
}

interface Conversation {
  readonly n: Negotiation;
  readonly peer: string;
  seq: number;
  run?: RunWork;
  /** The proposal as received, and its verification (what the codex admits and executes). */
  proposal?: PacketVerdict & { ok: true };
  /** The initiator's answer to a counter-offer. */
  accepts?: Task['acceptCounter'];
  /** The call for proposals this conversation answers (its responder bids, never accepts). */
  cfp?: string;
  /** Heard after each step the other party takes. */
  onStep?: () => void;
  settle?: () => void;
}

/** A call for proposals: the task, how long bids are awaited, and which bid wins. */
export interface Call extends Task {
  /** How long to wait for bids (default 1 s; it ends sooner once every agent asked answered). */
  readonly bidWindowMs?: number;
  /** Picks the winning bid (default: the first, in the agents' rank order); undefined: none. */
  readonly choose?: (bids: readonly { agent: string; terms: JsonMap }[]) => string | undefined;
  /** How many agents to ask, best first (default 5). */
  readonly fanout?: number;
}

/**
 * An agent speaking JITNA on the Message Plane: it announces its capability card on
 * `jit.jitna.registry` with heartbeats, hears the others' (discovery), and negotiates work through
 * signed packets on each agent's inbox (`jit.jitna.agent.<id>`), one `Negotiation` per
 * conversation on each side. As initiator: `discover`, then `negotiate` (propose to the best
 * match, re-route to the next on a rejection, await the outcome). As responder: `onProposal`.
 */
export class JitnaAgent {
  readonly id: string;
  readonly registry = new CapabilityRegistry();
  private readonly o: JitnaAgentOptions;
  private readonly verifier: PacketVerifier;
  private readonly conversations = new Map<string, Conversation>();
  private readonly subs: PlaneSubscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  /** Open conversations this agent answers, by the peer that opened them. */
  private readonly openWith = new Map<string, number>();
  /** When this agent last announced itself because a newcomer asked (ms). */
  private answeredSolicit = 0;
  private solicited: NodeJS.Timeout | undefined;
  /** Aborted when the agent closes: the signal work runs with. */
  private readonly stopping = new AbortController();
  /** Packets refused, by reason (verification, or a step the negotiation did not take). */
  readonly refused: Record<string, number> = {};

  private constructor(o: JitnaAgentOptions) {
    this.o = o;
    this.id = o.signer.agent;
    this.verifier = new PacketVerifier({ keys: o.keys, audience: this.id });
  }

  static async start(o: JitnaAgentOptions): Promise<JitnaAgent> {
    if (o.capabilities !== undefined && o.onProposal === undefined)
      throw new TypeError('an agent that declares capabilities answers proposals: give onProposal');
    const a = new JitnaAgent(o);
    a.subs.push(await o.plane.subscribe(REGISTRY_TOPIC, (m) => a.onRegistry(m)));
    a.subs.push(await o.plane.subscribe(inboxTopic(a.id), (m) => a.onInbox(m)));
    // a newcomer asks the others to announce now, rather than wait for their next heartbeat
    if (o.solicit !== false)
      await a.send(
        createPacket({
          source: a.id,
          target: BROADCAST,
          type: 'heartbeat',
          payload: {},
          metadata: { solicit: true },
        }),
        REGISTRY_TOPIC,
      );
    if (o.capabilities !== undefined) {
      await a.announce();
      a.timer = setInterval(() => {
        a.announce().catch((e: unknown) => debug('heartbeat failed: %o', e));
      }, o.heartbeatMs ?? 5000);
      a.timer.unref();
    }
    a.ticker = setInterval(() => a.tick(), 100);
    a.ticker.unref();
    return a;
  }

  /** This agent's card as it announces it. */
  get card(): CapabilityCard | undefined {
    const c = this.o.capabilities;
    if (c === undefined) return undefined;
    return {
      ...c,
      adapter_id: this.id,
      public_key_fingerprint: fingerprint(this.o.signer.publicKey),
    };
  }

  /** Announces the card now (heartbeats do it periodically). */
  async announce(changes: Partial<Capabilities> = {}): Promise<void> {
    const c = this.card;
    if (c === undefined) return;
    const card = { ...c, ...changes };
    await this.send(
      createPacket({
        source: this.id,
        target: BROADCAST,
        type: 'heartbeat',
        payload: { card: card as unknown as JsonMap },
      }),
      REGISTRY_TOPIC,
    );
  }

  /** The agents that match, best first (deterministic: see `rankCards`). */
  discover(q: CapabilityQuery): CapabilityCard[] {
    return this.registry.query({ ...q, exclude: [...(q.exclude ?? []), this.id] }, Date.now());
  }

  /**
   * Finds agents for `task` and negotiates with the best; on a rejection (or silence) asks the
   * next, up to `attempts`. Resolves with how it ended.
   */
  async negotiate(task: Task): Promise<NegotiationResult> {
    const tried: { agent: string; state: NegotiationState; reason?: string }[] = [];
    const attempts = task.attempts ?? 3;
    for (const c of this.discover(task).slice(0, attempts)) {
      task.signal?.throwIfAborted();
      const n = await this.proposeTo(c.adapter_id, task);
      tried.push({
        agent: c.adapter_id,
        state: n.state,
        ...(n.reason ? { reason: n.reason } : {}),
      });
      if (n.state === 'completed' || n.state === 'failed' || n.state === 'cancelled')
        return {
          state: n.state,
          agent: c.adapter_id,
          ...(n.result ? { result: n.result } : {}),
          ...(n.reason ? { reason: n.reason } : {}),
          tried,
        };
      // rejected or expired: the next-ranked agent
    }
    const last = tried.at(-1);
    return {
      state: last?.state ?? 'rejected',
      agent: last?.agent,
      reason: last?.reason ?? `no agent offers ${task.action}`,
      tried,
    };
  }

  /**
   * Contract Net's call for proposals: proposes `task` to the best `fanout` matching agents at
   * once, marked as a call, so each answers with a bid (a counter-offer) or a rejection; then
   * accepts the bid `choose` picks, rejects the others, and waits for the winner's work.
   */
  async callForProposals(call: Call): Promise<NegotiationResult> {
    const cfp = randomUUID();
    const asked = this.discover(call).slice(0, call.fanout ?? 5);
    const convs = asked.map((c) => this.open(c.adapter_id, call, cfp));
    const answered = (): boolean => convs.every(({ conv }) => conv.n.state !== 'proposed');
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, call.bidWindowMs ?? 1000);
        const check = (): void => {
          if (answered()) {
            clearTimeout(timer);
            resolve();
          }
        };
        for (const { conv } of convs) conv.onStep = check;
        Promise.all(
          convs.map(({ conv }) =>
            this.step(
              conv,
              'propose',
              { offerId: 'offer', offerVersion: 1, terms: termsOf(call) },
              { cfp },
            ),
          ),
        ).then(check, resolve);
      });
      const bids = convs
        .filter(({ conv }) => conv.n.state === 'countered')
        .map(({ conv }) => ({ agent: conv.peer, terms: conv.n.standing!.terms }));
      const winner = call.choose !== undefined ? call.choose(bids) : bids[0]?.agent;
      for (const { conv } of convs) {
        const s = conv.n.standing;
        if (conv.peer === winner && s !== undefined)
          await this.step(conv, 'accept', { offerId: s.id, offerVersion: s.version });
        else if (conv.n.state === 'countered')
          await this.step(conv, 'reject', { reason: 'another bid was taken' });
        else if (conv.n.state === 'proposed')
          await this.step(conv, 'cancel', { reason: 'the call for proposals closed' });
      }
      const won = convs.find(({ conv }) => conv.peer === winner);
      if (won !== undefined && !won.conv.n.done) await won.ended;
      const tried = convs.map(({ conv }) => ({
        agent: conv.peer,
        state: conv.n.state,
        ...(conv.n.reason ? { reason: conv.n.reason } : {}),
      }));
      const n = won?.conv.n;
      return n === undefined
        ? {
            state: 'rejected',
            agent: undefined,
            reason: bids.length === 0 ? 'no bids' : 'no bid was chosen',
            tried,
          }
        : {
            state: n.state,
            agent: winner,
            ...(n.result ? { result: n.result } : {}),
            ...(n.reason ? { reason: n.reason } : {}),
            tried,
          };
    } finally {
      for (const { conv } of convs) this.conversations.delete(conv.n.id);
    }
  }

  /** A new conversation this agent starts with `agent`, and its end. */
  private open(
    agent: string,
    task: Task,
    cfp?: string,
  ): { conv: Conversation; ended: Promise<void> } {
    const id = randomUUID();
    const now = Date.now();
    const n = new Negotiation({
      id,
      initiator: this.id,
      responder: agent,
      now,
      deadline: now + (task.deadlineMs ?? 60_000),
      stepTimeoutMs: this.o.stepTimeoutMs ?? 10_000,
    });
    const conv: Conversation = { n, peer: agent, seq: 0, ...(cfp !== undefined ? { cfp } : {}) };
    if (task.acceptCounter !== undefined) conv.accepts = task.acceptCounter;
    this.conversations.set(id, conv);
    const ended = new Promise<void>((resolve) => {
      conv.settle = resolve;
    });
    return { conv, ended };
  }

  /** Proposes `task` to one agent and waits for the conversation to end. */
  async proposeTo(agent: string, task: Task): Promise<Negotiation> {
    const { conv, ended } = this.open(agent, task);
    const n = conv.n;
    const id = n.id;
    try {
      await this.proposeAndWait(conv, ended, task);
    } finally {
      this.conversations.delete(id);
    }
    return n;
  }

  private async proposeAndWait(
    conv: Conversation,
    ended: Promise<void>,
    task: Task,
  ): Promise<void> {
    const onAbort = (): void => {
      void this.step(conv, 'cancel', { reason: 'the initiator gave up' });
    };
    task.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.step(conv, 'propose', { offerId: 'offer', offerVersion: 1, terms: termsOf(task) });
      if (!conv.n.done) await ended;
    } finally {
      task.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Sends this side's next step of a conversation, applying it to its own state first. */
  private async step(
    conv: Conversation,
    kind: NegotiationKind,
    o: StepFields,
    metadata?: JsonMap,
  ): Promise<void> {
    if (conv.n.done) return;
    const p = createPacket({
      ...(metadata !== undefined ? { metadata } : {}),
      source: this.id,
      target: conv.peer,
      type: negotiationMessageType(kind),
      payload: stepPayload(kind, o),
      correlationId: conv.n.id,
      seq: conv.seq,
    });
    const s = stepOf(p);
    if (typeof s === 'string') throw new Error(s);
    const r = conv.n.receive(s, Date.now());
    if (!r.taken) throw new Error(`cannot ${kind}: ${r.detail}`);
    conv.seq++;
    if (conv.n.done) {
      conv.settle?.();
      if (conv.n.responder === this.id) this.forget(conv);
    }
    await this.send(p, inboxTopic(conv.peer));
  }

  private async send(p: JitnaPacket, topic: string): Promise<void> {
    await this.o.plane.publish(topic, signPacket(p, this.o.signer) as unknown as CborValue);
  }

  /** A verified packet from the plane whose envelope sender is its source, or undefined. */
  private take(m: Message): (PacketVerdict & { ok: true }) | undefined {
    const v = this.verifier.verify(m.payload);
    const why = !v.ok
      ? v.reason
      : v.packet.source_agent_id !== m.sender
        ? 'not-its-sender'
        : undefined;
    if (why === undefined && v.ok) return v;
    this.refused[why!] = (this.refused[why!] ?? 0) + 1;
    debug('refused a packet on %s from %s: %s', m.topic, m.sender, why);
    return undefined;
  }

  private onRegistry(m: Message): void {
    if (m.sender === this.id || this.closed) return;
    const p = this.take(m)?.packet;
    if (p === undefined || p.message_type !== 'heartbeat') return;
    if (p.metadata.solicit === true && p.payload.card === undefined) {
      // at most one answer a second, however many newcomers ask: later asks share the next one
      if (this.card === undefined || this.solicited !== undefined) return;
      const wait = Math.max(0, this.answeredSolicit + 1000 - Date.now());
      this.solicited = setTimeout(() => {
        this.solicited = undefined;
        this.answeredSolicit = Date.now();
        if (!this.closed) this.announce().catch((e: unknown) => debug('announcing failed: %o', e));
      }, wait);
      this.solicited.unref();
      return;
    }
    const why = this.registry.hear(p, Date.now());
    if (why !== undefined) this.refused.card = (this.refused.card ?? 0) + 1;
  }

  private async onInbox(m: Message): Promise<void> {
    if (this.closed) return;
    const verdict = this.take(m);
    if (verdict === undefined) return;
    const p = verdict.packet;
    const s = stepOf(p);
    if (typeof s === 'string' || p.correlation_id === undefined) {
      this.refused.step = (this.refused.step ?? 0) + 1;
      return;
    }
    let conv = this.conversations.get(p.correlation_id);
    if (conv === undefined) {
      if (s.kind !== 'propose' || this.o.onProposal === undefined) {
        this.refused.step = (this.refused.step ?? 0) + 1;
        return;
      }
      // one peer cannot hold this agent's memory with conversations it leaves open
      const open = this.openWith.get(p.source_agent_id) ?? 0;
      if (open >= (this.o.maxOpenPerPeer ?? 64)) {
        this.refused.busy = (this.refused.busy ?? 0) + 1;
        return;
      }
      this.openWith.set(p.source_agent_id, open + 1);
      const now = Date.now();
      const n = new Negotiation({
        id: p.correlation_id,
        initiator: p.source_agent_id,
        responder: this.id,
        now,
        deadline: now + 60_000,
        stepTimeoutMs: this.o.stepTimeoutMs ?? 10_000,
      });
      conv = {
        n,
        peer: p.source_agent_id,
        seq: 0,
        ...(typeof p.metadata.cfp === 'string' ? { cfp: p.metadata.cfp } : {}),
      };
      this.conversations.set(p.correlation_id, conv);
    }
    const r = conv.n.receive(s, Date.now());
    if (!r.taken) {
      if (r.why !== 'duplicate' && r.why !== 'held')
        this.refused.step = (this.refused.step ?? 0) + 1;
      return;
    }
    if (s.kind === 'propose' && conv.n.responder === this.id) conv.proposal = verdict;
    for (const a of r.applied) await this.react(conv, a.kind);
    conv.onStep?.();
    if (conv.n.done) {
      conv.settle?.();
      if (conv.n.responder === this.id) this.forget(conv);
    }
  }

  /** This side's answer to a step the other side took. */
  private async react(conv: Conversation, kind: NegotiationKind): Promise<void> {
    const n = conv.n;
    const standing = n.standing!;
    if (n.responder === this.id && kind === 'propose') {
      const refusal =
        this.o.codex !== undefined && conv.proposal !== undefined
          ? this.o.codex.admit({ packet: conv.proposal.packet, verdict: conv.proposal })
          : undefined;
      if (refusal !== undefined) {
        this.refused.codex = (this.refused.codex ?? 0) + 1;
        return this.step(conv, 'reject', { reason: describeRefusal(refusal) });
      }
      let a: ProposalAnswer;
      try {
        a = await this.o.onProposal!({ from: conv.peer, conversation: n.id, offer: standing });
      } catch (e) {
        a = { reject: `the proposal handler failed: ${(e as Error).message}` };
      }
      if ('reject' in a) return this.step(conv, 'reject', { reason: a.reject });
      conv.run = a.run;
      // a call for proposals gets a bid, never a commitment: taking the terms as they are is a
      // bid of those terms
      if (conv.cfp !== undefined && !('counter' in a))
        return this.step(conv, 'counter', {
          offerId: standing.id,
          offerVersion: standing.version + 1,
          terms: standing.terms,
        });
      if ('counter' in a)
        return this.step(conv, 'counter', {
          offerId: standing.id,
          offerVersion: standing.version + 1,
          terms: a.counter,
        });
      await this.step(conv, 'accept', { offerId: standing.id, offerVersion: standing.version });
      void this.work(conv); // the inbox goes on meanwhile
      return;
    }
    if (n.responder === this.id && kind === 'accept') void this.work(conv);
    if (n.initiator === this.id && kind === 'counter' && conv.cfp === undefined) {
      if (conv.accepts?.(standing.terms, conv.peer) === true)
        return this.step(conv, 'accept', { offerId: standing.id, offerVersion: standing.version });
      return this.step(conv, 'reject', { reason: 'the counter-offer is not acceptable' });
    }
  }

  private async work(conv: Conversation): Promise<void> {
    const terms = conv.n.agreed!.terms;
    const codex = this.o.codex;
    if (codex !== undefined && conv.proposal !== undefined) {
      const out = await codex.execute(
        { packet: conv.proposal.packet, verdict: conv.proposal, granted: terms },
        conv.run!,
      );
      if (out.ok) await this.step(conv, 'complete', { result: out.result });
      else await this.step(conv, 'fail', { reason: out.reason });
      return;
    }
    try {
      const result = await conv.run!(terms, { signal: this.stopping.signal });
      await this.step(conv, 'complete', { result });
    } catch (e) {
      await this.step(conv, 'fail', { reason: (e as Error).message || 'the work failed' });
    }
  }

  /** Drops a conversation this agent answered (it ended). */
  private forget(conv: Conversation): void {
    if (!this.conversations.delete(conv.n.id)) return;
    const left = (this.openWith.get(conv.peer) ?? 1) - 1;
    if (left > 0) this.openWith.set(conv.peer, left);
    else this.openWith.delete(conv.peer);
  }

  private tick(): void {
    const now = Date.now();
    for (const c of [...this.conversations.values()]) {
      if (!c.n.done && TERMINAL_STATES.has(c.n.tick(now))) c.settle?.();
      // one this agent answers is dropped once it ended (its initiator's side drops its own)
      if (c.n.done && c.n.responder === this.id) this.forget(c);
    }
  }

  /** Stops heartbeats and subscriptions; open conversations end as they stand. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort(new Error('the agent closed'));
    clearInterval(this.timer);
    clearTimeout(this.solicited);
    clearInterval(this.ticker);
    for (const c of this.conversations.values()) c.settle?.();
    await Promise.all(this.subs.map((s) => s.close()));
  }
}

/** A task's terms, with its action in them (what the responder's codex checks), unless they name one. */
function termsOf(task: Task): JsonMap {
  return task.action !== undefined && task.terms.action === undefined
    ? { ...task.terms, action: task.action }
    : task.terms;
}
