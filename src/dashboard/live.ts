import { type CborValue, isPlainMap } from '../codec/index.js';
import type { Message } from '../mp/index.js';

type Obj = Record<string, CborValue>;

/** One thing the page hears of: it either shows it in the feed or refetches what it names. */
export type LiveEvent =
  | { readonly type: 'sws'; readonly sws: string; readonly op: string; readonly by: string | null }
  | { readonly type: 'ref'; readonly ref: string | null }
  | { readonly type: 'audit'; readonly seq: number | null }
  | { readonly type: 'policy' }
  | {
      readonly type: 'negotiation';
      readonly conversation: string;
      readonly kind: string;
      readonly from: string;
    }
  | { readonly type: 'finding'; readonly sws: string; readonly from: string }
  | { readonly type: 'agent'; readonly agent: string; readonly joined: boolean }
  | { readonly type: 'kernel'; readonly event: string; readonly detail: string };

/** An event as sent: numbered from 1, so the page can tell it missed none. */
export type Numbered = LiveEvent & { readonly n: number };

export interface AgentView {
  readonly agent: string;
  readonly card: Obj | null;
  /**
   * healthy, degraded, offline (its card's word); `active` when it sends but announces no card;
   * `silent` when nothing was heard from it for 15 s.
   */
  readonly health: string;
  readonly securityLevel: number | null;
  /** Messages this agent published in the last second (on any topic the dashboard hears). */
  readonly rate: number;
  readonly messages: number;
  /** Milliseconds since it was last heard. */
  readonly silentMs: number;
}

export interface NegotiationView {
  readonly conversation: string;
  readonly initiator: string;
  readonly responder: string;
  readonly state: string;
  readonly action: string | null;
  readonly steps: number;
  readonly ageMs: number;
}

/** How the performatives move a conversation (for display; agents run the real state machine). */
const STATE_AFTER: Record<string, string> = {
  propose: 'proposed',
  counter: 'countered',
  accept: 'agreed',
  complete: 'completed',
  reject: 'rejected',
  cancel: 'cancelled',
  fail: 'failed',
};
const TERMINAL = new Set(['completed', 'rejected', 'cancelled', 'failed', 'expired']);

/** SWS calls that change nothing (no event). */
const SWS_READS = new Set([
  'shadow.read',
  'shadow.files',
  'shadow.diff',
  'shadow.status',
  'shadow.list',
]);

/** Cards are dropped after this long without a heartbeat (three missed heartbeats of 5 s). */
const CARD_TTL_MS = 15_000;

interface Agent {
  card: Obj | null;
  lastSeen: number;
  messages: number;
  thisSecond: number;
  rate: number;
}

interface Conversation {
  readonly conversation: string;
  readonly initiator: string;
  responder: string;
  state: string;
  action: string | null;
  steps: number;
  readonly started: number;
  updated: number;
}

export interface LiveOptions {
  /** Agents remembered at most (the least recently heard is forgotten first). @default 2000 */
  readonly maxAgents?: number;
  /** Finished conversations kept for display. @default 200 */
  readonly keepFinished?: number;
  /** Conversations in flight followed at most. @default 5000 */
  readonly maxOpen?: number;
  /** A conversation unheard of this long is shown expired. @default 60 s */
  readonly expireMs?: number;
  /** The clock (ms); tests pass their own. */
  readonly now?: () => number;
}

/** Whether the model reads the content of messages on `topic` (see `message`). */
function readsContent(topic: string): boolean {
  return (
    topic === 'jit.jitna.registry' ||
    topic === 'jit.kernel.events' ||
    topic.startsWith('jit.jitna.agent.') ||
    (topic.startsWith('jit.sws.') && topic.endsWith('.analyze'))
  );
}

/**
 * What the dashboard follows live: the kernel's operations (fed in process by jitd, so calls
 * over the socket show as well as commands from the plane) and what it hears on the plane (agents'
 * capability cards and message rates, JITNA conversations, findings, the kernel's refusals). Every
 * event is numbered and handed to the listeners; state is bounded. This is a display model: it
 * holds nothing the kernel relies on, and it may use the wall clock.
 */
export class LiveModel {
  private readonly agents = new Map<string, Agent>();
  private readonly open = new Map<string, Conversation>();
  private readonly finished: Conversation[] = [];
  private readonly listeners = new Set<(e: Numbered) => void>();
  private readonly now: () => number;
  private readonly o: Required<Omit<LiveOptions, 'now'>>;
  private n = 0;

  constructor(o: LiveOptions = {}) {
    this.now = o.now ?? Date.now;
    this.o = {
      maxAgents: o.maxAgents ?? 2000,
      keepFinished: o.keepFinished ?? 200,
      maxOpen: o.maxOpen ?? 5000,
      expireMs: o.expireMs ?? 60_000,
    };
  }

  /** Events sent so far (the last number). */
  get sent(): number {
    return this.n;
  }

  /** Calls `fn` with every event from now on; returns the unsubscribe. */
  listen(fn: (e: Numbered) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: LiveEvent): void {
    const n = ++this.n;
    if (this.listeners.size === 0) return;
    const numbered = { ...e, n } as Numbered;
    for (const l of this.listeners) l(numbered);
  }

  /** A kernel operation answered successfully (jitd's instrumented handler table calls this). */
  kernelOp(op: string, payload: CborValue, result: CborValue, by: string | null): void {
    const p = (isPlainMap(payload) ? payload : {}) as Obj;
    const r = (isPlainMap(result) ? result : {}) as Obj;
    const name = op === 'collapse.commit' ? 'shadow.commit' : op;
    if (name.startsWith('shadow.') && !SWS_READS.has(name)) {
      const sws = typeof p.id === 'string' ? p.id : typeof r.id === 'string' ? r.id : null;
      if (sws === null) return;
      this.emit({ type: 'sws', sws, op: name.slice(7), by });
      if (name === 'shadow.commit' && r.updated !== false)
        this.emit({ type: 'ref', ref: typeof r.ref === 'string' ? r.ref : null });
    } else if (name.startsWith('ref.') && name !== 'ref.get' && name !== 'ref.list') {
      this.emit({ type: 'ref', ref: typeof p.name === 'string' ? p.name : null });
    } else if (name === 'audit.append') {
      this.emit({ type: 'audit', seq: typeof r.seq === 'number' ? r.seq : null });
    } else if (name === 'acl.set' || name === 'agent.add' || name === 'agent.remove') {
      this.emit({ type: 'policy' });
    }
  }

  /**
   * Looked at before a message's signature is checked (the dashboard subscription's filter):
   * true when the message is to be checked and handed to `message`. That is a message whose
   * content the model reads (a capability card, a JITNA step, a finding, a kernel event), or the
   * first from a sender not known yet. The rest of a known sender's traffic (most of it: patch
   * commands, answers) only counts toward its rate, on its claim; no signature is checked to count
   * it. Checking each one doubled jitd's verification work under a flood. A forger can so inflate
   * a known agent's rate on the display, nothing more.
   */
  heard(e: { readonly topic: string; readonly sender: string }): boolean {
    if (readsContent(e.topic)) return true;
    const a = this.agents.get(e.sender);
    if (a === undefined) return true;
    a.lastSeen = this.now();
    a.messages++;
    a.thisSecond++;
    return false;
  }

  /** A message heard on the plane (already verified by the dashboard's plane). */
  message(m: Pick<Message, 'topic' | 'sender' | 'payload'>): void {
    const now = this.now();
    const a = this.agent(m.sender, now);
    a.messages++;
    a.thisSecond++;
    const p = (isPlainMap(m.payload) ? m.payload : {}) as Obj;
    if (m.topic === 'jit.jitna.registry') {
      const card = (p.payload as Obj | undefined)?.card;
      if (isPlainMap(card)) {
        const joined = a.card === null;
        a.card = card as Obj;
        if (joined) this.emit({ type: 'agent', agent: m.sender, joined: true });
      }
    } else if (m.topic.startsWith('jit.jitna.agent.')) {
      this.step(m.sender, p, now);
    } else if (m.topic.startsWith('jit.sws.') && m.topic.endsWith('.analyze')) {
      this.emit({ type: 'finding', sws: m.topic.slice(8, -8), from: m.sender });
    } else if (m.topic === 'jit.kernel.events') {
      const event = typeof p.event === 'string' ? p.event : 'event';
      if (event === 'denied' || event === 'rejected' || event === 'rejected-many')
        this.emit({
          type: 'kernel',
          event,
          detail: String(p.reason ?? p.error ?? (event === 'rejected-many' ? 'several' : '')),
        });
    }
  }

  private agent(id: string, now: number): Agent {
    let a = this.agents.get(id);
    if (a === undefined) {
      if (this.agents.size >= this.o.maxAgents) {
        // forget the one heard least recently
        let oldest: string | undefined;
        let at = Number.POSITIVE_INFINITY;
        for (const [k, v] of this.agents)
          if (v.lastSeen < at) {
            at = v.lastSeen;
            oldest = k;
          }
        if (oldest !== undefined) this.agents.delete(oldest);
      }
      a = { card: null, lastSeen: now, messages: 0, thisSecond: 0, rate: 0 };
      this.agents.set(id, a);
    }
    a.lastSeen = now;
    return a;
  }

  /** A JITNA packet: follow its conversation by correlation id and performative. */
  private step(sender: string, packet: Obj, now: number): void {
    const neg = (packet.payload as Obj | undefined)?.negotiation;
    const id = packet.correlation_id;
    if (!isPlainMap(neg) || typeof id !== 'string') return;
    const kind = (neg as Obj).kind;
    if (typeof kind !== 'string' || !(kind in STATE_AFTER)) return;
    let c = this.open.get(id);
    if (c === undefined) {
      if (TERMINAL.has(STATE_AFTER[kind]!) && this.finished.some((f) => f.conversation === id))
        return;
      if (this.open.size >= this.o.maxOpen) this.retire(this.open.keys().next().value!, 'expired');
      c = {
        conversation: id,
        initiator: sender,
        responder: typeof packet.target_agent_id === 'string' ? packet.target_agent_id : '',
        state: 'new',
        action: null,
        steps: 0,
        started: now,
        updated: now,
      };
      this.open.set(id, c);
    }
    c.steps++;
    c.updated = now;
    c.state = STATE_AFTER[kind]!;
    const terms = ((neg as Obj).terms ?? ((neg as Obj).offer as Obj | undefined)?.terms) as
      | Obj
      | undefined;
    if (isPlainMap(terms) && typeof terms.action === 'string') c.action = terms.action;
    this.emit({ type: 'negotiation', conversation: id, kind, from: sender });
    if (TERMINAL.has(c.state)) this.retire(id, c.state);
  }

  private retire(id: string, state: string): void {
    const c = this.open.get(id);
    if (c === undefined) return;
    this.open.delete(id);
    c.state = state;
    this.finished.push(c);
    if (this.finished.length > this.o.keepFinished) this.finished.shift();
  }

  /**
   * Once a second: message rates, silent agents, and conversations gone quiet. Returns the agents
   * and conversations as the page shows them (bounded).
   */
  tick(): { agents: AgentView[]; negotiations: NegotiationView[]; open: number } {
    const now = this.now();
    for (const [id, c] of this.open)
      if (now - c.updated > this.o.expireMs) this.retire(id, 'expired');
    const agents: AgentView[] = [];
    for (const [id, a] of this.agents) {
      a.rate = a.thisSecond;
      a.thisSecond = 0;
      const silentMs = now - a.lastSeen;
      if (a.card !== null && silentMs > CARD_TTL_MS) a.card = null;
      const status = a.card?.status;
      agents.push({
        agent: id,
        card: a.card,
        health:
          a.card !== null
            ? typeof status === 'string'
              ? status
              : 'healthy'
            : silentMs > CARD_TTL_MS
              ? 'silent'
              : 'active',
        securityLevel:
          typeof a.card?.security_level === 'number' ? (a.card.security_level as number) : null,
        rate: a.rate,
        messages: a.messages,
        silentMs,
      });
    }
    agents.sort((x, y) => (x.agent < y.agent ? -1 : 1));
    const view = (c: Conversation): NegotiationView => ({
      conversation: c.conversation,
      initiator: c.initiator,
      responder: c.responder,
      state: c.state,
      action: c.action,
      steps: c.steps,
      ageMs: now - c.started,
    });
    const inFlight = [...this.open.values()].slice(-200).map(view);
    const done = this.finished.slice(-50).map(view).reverse();
    return {
      agents: agents.slice(0, 500),
      negotiations: [...inFlight, ...done],
      open: this.open.size,
    };
  }
}
