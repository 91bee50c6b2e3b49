import type { JsonMap, MessageType } from './packet.js';

/** The performatives (carried as `payload.negotiation.kind`). */
export const NEGOTIATION_KINDS = [
  'propose',
  'counter',
  'accept',
  'reject',
  'complete',
  'cancel',
  'fail',
] as const;
export type NegotiationKind = (typeof NEGOTIATION_KINDS)[number];

export type NegotiationState =
  | 'new'
  | 'proposed'
  | 'countered'
  | 'agreed'
  | 'completed'
  | 'failed'
  | 'rejected'
  | 'cancelled'
  | 'expired';

export const TERMINAL_STATES: ReadonlySet<NegotiationState> = new Set([
  'completed',
  'failed',
  'rejected',
  'cancelled',
  'expired',
]);

/** The message type each performative travels as. */
export function negotiationMessageType(kind: NegotiationKind): MessageType {
  return kind === 'complete' ? 'intent_response' : kind === 'fail' ? 'error' : 'negotiation';
}

/** One step of a conversation, as read from a verified packet (`stepOf`). */
export interface Step {
  readonly from: string;
  readonly packetId: string;
  /** The sender's sequence number in this conversation, from 0. */
  readonly seq: number;
  readonly kind: NegotiationKind;
  readonly offerId?: string;
  readonly offerVersion?: number;
  readonly terms?: JsonMap;
  readonly result?: JsonMap;
  readonly reason?: string;
}

/** An offer on the table: who made it, which version, on what terms. */
export interface Offer {
  readonly id: string;
  readonly version: number;
  readonly author: string;
  readonly terms: JsonMap;
}

export type StepOutcome =
  | { readonly taken: true; readonly applied: readonly Step[]; readonly state: NegotiationState }
  | {
      readonly taken: false;
      readonly why: 'duplicate' | 'held' | 'stale' | 'refused' | 'closed';
      readonly detail: string;
    };

export interface NegotiationOptions {
  /** The conversation (the packets' `correlation_id`). */
  readonly id: string;
  /** Who proposes (and may accept a counter-offer). */
  readonly initiator: string;
  /** Who is asked to do the work (and completes or fails it). */
  readonly responder: string;
  /** When the conversation starts (ms). */
  readonly now: number;
  /** How long an open offer waits for the other party's next step (default 30 s). */
  readonly stepTimeoutMs?: number;
  /** When the whole conversation must have ended (ms; default 5 min after `now`). */
  readonly deadline?: number;
  /** Counter-offers (and re-proposals) allowed in all (default 4). */
  readonly maxCounterRounds?: number;
  /** Steps that came early held back per conversation (default 16). */
  readonly holdLimit?: number;
}

/**
 * The negotiation of one piece of work between two agents (docs/JITNA.md, "Negotiation"): a
 * state machine per correlation id. Every step names the sender; steps come in the sender's
 * `seq` order (an early one is held until those before it arrive; an old one is refused), a
 * repeated packet is a no-op, and every refusal leaves the state as it was:
 *
 *     new ──propose(I)──▶ proposed ──counter(R)──▶ countered ──propose|counter(I)──▶ proposed …
 *     proposed|countered ──accept(the one who did not make the standing offer)──▶ agreed
 *     proposed|countered ──reject(either)──▶ rejected
 *     proposed|countered|agreed ──cancel(either)──▶ cancelled
 *     agreed ──complete(R)──▶ completed        agreed ──fail(R)──▶ failed
 *     any open state ──step timeout (not agreed) or deadline──▶ expired
 */
export class Negotiation {
  readonly id: string;
  readonly initiator: string;
  readonly responder: string;
  private st: NegotiationState = 'new';
  private standingOffer: Offer | undefined;
  private agreedOffer: Offer | undefined;
  private outcome: JsonMap | undefined;
  private why: string | undefined;
  private rounds = 0;
  private lastStepAt: number;
  readonly deadline: number;
  private readonly stepTimeoutMs: number;
  private readonly maxRounds: number;
  private readonly holdLimit: number;
  private readonly seen = new Set<string>();
  private readonly expected = new Map<string, number>();
  private readonly held: Step[] = [];
  private readonly log: Step[] = [];

  constructor(o: NegotiationOptions) {
    if (o.initiator === o.responder)
      throw new RangeError(`a negotiation needs two parties, not ${o.initiator} twice`);
    this.id = o.id;
    this.initiator = o.initiator;
    this.responder = o.responder;
    this.lastStepAt = o.now;
    this.deadline = o.deadline ?? o.now + 300_000;
    this.stepTimeoutMs = o.stepTimeoutMs ?? 30_000;
    this.maxRounds = o.maxCounterRounds ?? 4;
    this.holdLimit = o.holdLimit ?? 16;
  }

  get state(): NegotiationState {
    return this.st;
  }
  get done(): boolean {
    return TERMINAL_STATES.has(this.st);
  }
  /** The offer on the table (the last proposed or countered). */
  get standing(): Offer | undefined {
    return this.standingOffer;
  }
  /** The offer accepted, once agreed. */
  get agreed(): Offer | undefined {
    return this.agreedOffer;
  }
  /** What `complete` reported. */
  get result(): JsonMap | undefined {
    return this.outcome;
  }
  /** Why it ended, for reject, cancel, fail and expiry. */
  get reason(): string | undefined {
    return this.why;
  }
  get counterRounds(): number {
    return this.rounds;
  }
  /** The steps taken, in the order they were applied. */
  get history(): readonly Step[] {
    return this.log;
  }

  /** Ends the conversation as `expired` if its time is up at `now`; returns the state. */
  tick(now: number): NegotiationState {
    if (this.done) return this.st;
    if (now >= this.deadline) return this.end('expired', 'the deadline passed');
    if (this.st !== 'agreed' && now - this.lastStepAt >= this.stepTimeoutMs)
      return this.end('expired', `no step for ${this.stepTimeoutMs} ms`);
    return this.st;
  }

  /** Offers one step at `now`. */
  receive(s: Step, now: number): StepOutcome {
    if (this.seen.has(s.packetId))
      return { taken: false, why: 'duplicate', detail: `packet ${s.packetId} was taken before` };
    if (this.tick(now) !== this.st || this.done)
      return { taken: false, why: 'closed', detail: `the negotiation is ${this.st}` };
    if (s.from !== this.initiator && s.from !== this.responder)
      return { taken: false, why: 'refused', detail: `${s.from} is not a party to ${this.id}` };
    const want = this.expected.get(s.from) ?? 0;
    if (!Number.isSafeInteger(s.seq) || s.seq < want)
      return { taken: false, why: 'stale', detail: `${s.from}'s seq ${s.seq} is behind ${want}` };
    if (s.seq > want) {
      if (this.held.some((h) => h.from === s.from && h.seq === s.seq))
        return {
          taken: false,
          why: 'stale',
          detail: `a step with ${s.from}'s seq ${s.seq} is held already`,
        };
      if (this.held.length >= this.holdLimit)
        return { taken: false, why: 'refused', detail: `${this.holdLimit} steps held already` };
      this.held.push(s);
      return { taken: false, why: 'held', detail: `waiting for ${s.from}'s seq ${want}` };
    }
    const no = this.apply(s, now);
    if (no !== undefined) return { taken: false, why: 'refused', detail: no };
    const applied = [s];
    // what was held behind it may go now, in order
    for (let again = true; again && !this.done; ) {
      again = false;
      for (let i = 0; i < this.held.length; i++) {
        const h = this.held[i]!;
        if (h.seq !== (this.expected.get(h.from) ?? 0)) continue;
        this.held.splice(i, 1);
        if (this.apply(h, now) === undefined) applied.push(h);
        else this.expected.set(h.from, h.seq + 1); // refused: its seq is spent all the same
        again = true;
        break;
      }
    }
    return { taken: true, applied, state: this.st };
  }

  /** Applies a step in order; why it is refused, or undefined. */
  private apply(s: Step, now: number): string | undefined {
    const other = (who: string): string =>
      who === this.initiator ? this.responder : this.initiator;
    const open = this.st === 'proposed' || this.st === 'countered';
    const needOffer = (): string | undefined =>
      s.offerId === undefined || s.offerVersion === undefined || s.terms === undefined
        ? `${s.kind} carries an offer id, a version and terms`
        : this.standingOffer !== undefined && s.offerVersion <= this.standingOffer.version
          ? `version ${s.offerVersion} is not above the standing version ${this.standingOffer.version}`
          : undefined;
    let no: string | undefined;
    switch (s.kind) {
      case 'propose':
        if (s.from !== this.initiator) no = `only ${this.initiator} proposes`;
        else if (
          this.st !== 'new' &&
          !(this.st === 'countered' && this.standingOffer?.author === this.responder)
        )
          no = `a proposal comes first, or answers a counter-offer (the negotiation is ${this.st})`;
        else no = needOffer() ?? (this.st !== 'new' ? this.round() : undefined);
        break;
      case 'counter':
        if (!open) no = `nothing to counter (the negotiation is ${this.st})`;
        else if (this.standingOffer!.author === s.from) no = `${s.from} made the standing offer`;
        else no = needOffer() ?? this.round();
        break;
      case 'accept':
        if (!open) no = `nothing to accept (the negotiation is ${this.st})`;
        else if (this.standingOffer!.author === s.from)
          no = `${s.from} cannot accept its own offer`;
        else if (
          s.offerId !== this.standingOffer!.id ||
          s.offerVersion !== this.standingOffer!.version
        )
          no = `only the standing offer ${this.standingOffer!.id} v${this.standingOffer!.version} can be accepted`;
        break;
      case 'reject':
        if (!open) no = `nothing to reject (the negotiation is ${this.st})`;
        break;
      case 'cancel':
        if (!open && this.st !== 'agreed') no = `nothing to cancel (the negotiation is ${this.st})`;
        break;
      case 'complete':
      case 'fail':
        if (this.st !== 'agreed')
          no = `${s.kind} comes after an agreement (the negotiation is ${this.st})`;
        else if (s.from !== this.responder)
          no = `only ${this.responder}, who does the work, may ${s.kind} it`;
        break;
    }
    if (no !== undefined) return no;
    this.seen.add(s.packetId);
    this.expected.set(s.from, s.seq + 1);
    this.lastStepAt = now;
    this.log.push(s);
    switch (s.kind) {
      case 'propose':
      case 'counter':
        this.standingOffer = {
          id: s.offerId!,
          version: s.offerVersion!,
          author: s.from,
          terms: s.terms!,
        };
        this.st = s.kind === 'propose' ? 'proposed' : 'countered';
        break;
      case 'accept':
        this.agreedOffer = this.standingOffer;
        this.st = 'agreed';
        break;
      case 'reject':
        this.end('rejected', s.reason ?? `${s.from} rejected it`);
        break;
      case 'cancel':
        this.end('cancelled', s.reason ?? `${s.from} cancelled it`);
        break;
      case 'complete':
        this.outcome = s.result ?? {};
        this.st = 'completed';
        break;
      case 'fail':
        this.end('failed', s.reason ?? `${other(s.from)}'s work failed`);
        break;
    }
    return undefined;
  }

  private round(): string | undefined {
    if (this.rounds >= this.maxRounds)
      return `the ${this.maxRounds} counter-offer rounds are used up`;
    this.rounds++;
    return undefined;
  }

  private end(state: NegotiationState, why: string): NegotiationState {
    this.st = state;
    this.why = why;
    this.held.length = 0;
    return state;
  }
}

const str = (v: unknown, max = 128): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;
const isMap = (v: unknown): v is JsonMap =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The step a (verified) packet carries: `payload.negotiation = {kind, offer_id?, offer_version?,
 * terms?, result?, reason?}`, its sender, id and `seq`. Why it is none, as a string.
 */
export function stepOf(p: {
  readonly source_agent_id: string;
  readonly packet_id: string;
  readonly seq?: number;
  readonly payload: JsonMap;
}): Step | string {
  const n = p.payload.negotiation;
  if (!isMap(n)) return 'payload.negotiation is missing';
  if (!(NEGOTIATION_KINDS as readonly unknown[]).includes(n.kind))
    return `payload.negotiation.kind is one of ${NEGOTIATION_KINDS.join(', ')}`;
  if (p.seq === undefined) return 'a negotiation packet carries its seq';
  if (n.offer_id !== undefined && !str(n.offer_id)) return 'offer_id is a string of 1–128';
  if (
    n.offer_version !== undefined &&
    !(
      typeof n.offer_version === 'number' &&
      Number.isSafeInteger(n.offer_version) &&
      n.offer_version >= 1
    )
  )
    return 'offer_version is a whole number ≥ 1';
  for (const f of ['terms', 'result'] as const)
    if (n[f] !== undefined && !isMap(n[f])) return `${f} is a map`;
  if (n.reason !== undefined && !str(n.reason, 1024)) return 'reason is a string of 1–1024';
  return {
    from: p.source_agent_id,
    packetId: p.packet_id,
    seq: p.seq,
    kind: n.kind as NegotiationKind,
    ...(n.offer_id !== undefined ? { offerId: n.offer_id as string } : {}),
    ...(n.offer_version !== undefined ? { offerVersion: n.offer_version as number } : {}),
    ...(n.terms !== undefined ? { terms: n.terms as JsonMap } : {}),
    ...(n.result !== undefined ? { result: n.result as JsonMap } : {}),
    ...(n.reason !== undefined ? { reason: n.reason as string } : {}),
  };
}

/** The payload of a negotiation packet. */
/** What a step carries besides its kind (`stepPayload`). */
export interface StepFields {
  readonly offerId?: string;
  readonly offerVersion?: number;
  readonly terms?: JsonMap;
  readonly result?: JsonMap;
  readonly reason?: string;
}

export function stepPayload(kind: NegotiationKind, o: StepFields = {}): JsonMap {
  return {
    negotiation: {
      kind,
      ...(o.offerId !== undefined ? { offer_id: o.offerId } : {}),
      ...(o.offerVersion !== undefined ? { offer_version: o.offerVersion } : {}),
      ...(o.terms !== undefined ? { terms: o.terms } : {}),
      ...(o.result !== undefined ? { result: o.result } : {}),
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
    },
  };
}
