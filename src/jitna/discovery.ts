import type { JitnaPacket } from './packet.js';

/** How an agent says it is doing (RFC §6.2). */
export const CARD_STATUSES = ['healthy', 'degraded', 'offline'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/**
 * What an agent offers (RFC §6.2, plus its load and key): announced in `heartbeat` packets on
 * `jit.jitna.registry`, valid while heartbeats keep coming.
 */
export interface CapabilityCard {
  /** The agent's id (the packet's `source_agent_id`). */
  readonly adapter_id: string;
  readonly name: string;
  readonly version: string;
  readonly supported_actions: readonly string[];
  readonly supported_formats: readonly string[];
  /** 1 SAFE (read-only) … 5 CRITICAL (RFC §5.2): the most sensitive work it is cleared for. */
  readonly security_level: number;
  readonly status: CardStatus;
  /** How busy it is, 0 (idle) to 1 (full). */
  readonly load: number;
  /** Its key's fingerprint (the packet's `key_id`). */
  readonly public_key_fingerprint: string;
}

/** What a query asks for; every field given must match. */
export interface CapabilityQuery {
  readonly action: string;
  readonly format?: string;
  /** The least security level the work needs (default 1). */
  readonly minSecurityLevel?: number;
  /** Only these statuses (default: healthy and degraded, never offline). */
  readonly status?: readonly CardStatus[];
  /** Agents to leave out (those that refused already). */
  readonly exclude?: readonly string[];
}

const STATUS_RANK: Record<CardStatus, number> = { healthy: 0, degraded: 1, offline: 2 };
const MAX_LIST = 64;
const MAX_TEXT = 128;

/** Why `v` is not a capability card, or undefined. */
export function cardProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'a card is a map';
  const c = v as Record<string, unknown>;
  for (const f of ['adapter_id', 'name', 'version', 'public_key_fingerprint'])
    if (typeof c[f] !== 'string' || c[f] === '' || (c[f] as string).length > MAX_TEXT)
      return `${f} is a string of 1–${MAX_TEXT} characters`;
  for (const f of ['supported_actions', 'supported_formats']) {
    const l = c[f];
    if (
      !Array.isArray(l) ||
      l.length > MAX_LIST ||
      l.some((x) => typeof x !== 'string' || x === '' || x.length > MAX_TEXT)
    )
      return `${f} is a list of at most ${MAX_LIST} names`;
  }
  const lvl = c.security_level;
  if (typeof lvl !== 'number' || !Number.isInteger(lvl) || lvl < 1 || lvl > 5)
    return 'security_level is an integer 1–5';
  if (!(CARD_STATUSES as readonly unknown[]).includes(c.status))
    return `status is one of ${CARD_STATUSES.join(', ')}`;
  if (typeof c.load !== 'number' || !(c.load >= 0 && c.load <= 1)) return 'load is a number 0–1';
  return undefined;
}

/**
 * The ranking of a query (deterministic, whatever the order cards came in): healthy before
 * degraded; then the lowest security level that is enough (least privilege: work that needs
 * level 2 goes to a level-2 agent before a level-5 one); then the lowest load; then the id.
 */
export function rankCards(cards: readonly CapabilityCard[], q: CapabilityQuery): CapabilityCard[] {
  const min = q.minSecurityLevel ?? 1;
  const statuses = q.status ?? (['healthy', 'degraded'] as const);
  const exclude = new Set(q.exclude ?? []);
  return cards
    .filter(
      (c) =>
        c.supported_actions.includes(q.action) &&
        (q.format === undefined || c.supported_formats.includes(q.format)) &&
        c.security_level >= min &&
        statuses.includes(c.status) &&
        !exclude.has(c.adapter_id),
    )
    .sort(
      (a, b) =>
        STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
        a.security_level - b.security_level ||
        a.load - b.load ||
        (a.adapter_id < b.adapter_id ? -1 : a.adapter_id > b.adapter_id ? 1 : 0),
    );
}

interface Held {
  readonly card: CapabilityCard;
  readonly until: number;
}

/**
 * The cards an agent has heard, each until `ttlMs` after its last heartbeat (default 15 s: three
 * heartbeats of the default 5 s missed). Bounded (`capacity` agents; past it the card nearest its
 * expiry goes).
 */
export class CapabilityRegistry {
  private readonly cards = new Map<string, Held>();
  private readonly ttlMs: number;
  private readonly capacity: number;

  constructor(o: { ttlMs?: number; capacity?: number } = {}) {
    this.ttlMs = o.ttlMs ?? 15_000;
    this.capacity = o.capacity ?? 10_000;
  }

  /**
   * Takes the card a verified heartbeat packet carries (`payload.card`); refuses one that is not
   * the sender's own (its `adapter_id` and fingerprint must be the packet's sender and key).
   * Returns why it was refused, or undefined.
   */
  hear(p: JitnaPacket, now: number): string | undefined {
    const card = p.payload.card;
    const why = cardProblem(card);
    if (why !== undefined) return why;
    const c = card as unknown as CapabilityCard;
    if (c.adapter_id !== p.source_agent_id)
      return `a card for ${c.adapter_id} announced by ${p.source_agent_id}`;
    if (p.key_id !== undefined && c.public_key_fingerprint !== p.key_id)
      return `the card's fingerprint is not the key that signed it`;
    this.put(c, now);
    return undefined;
  }

  /** Keeps a card (already checked) until `now + ttlMs`. */
  put(c: CapabilityCard, now: number): void {
    if (!this.cards.has(c.adapter_id) && this.cards.size >= this.capacity) {
      this.expire(now);
      if (this.cards.size >= this.capacity) {
        let soonest: string | undefined;
        let at = Number.POSITIVE_INFINITY;
        for (const [id, h] of this.cards) if (h.until < at) [soonest, at] = [id, h.until];
        if (soonest !== undefined) this.cards.delete(soonest);
      }
    }
    this.cards.set(c.adapter_id, { card: c, until: now + this.ttlMs });
  }

  /** Drops an agent's card (it said it is leaving, or refused to work). */
  forget(agent: string): void {
    this.cards.delete(agent);
  }

  /** The cards still valid at `now`. */
  list(now: number): CapabilityCard[] {
    this.expire(now);
    return [...this.cards.values()].map((h) => h.card);
  }

  get(agent: string, now: number): CapabilityCard | undefined {
    const h = this.cards.get(agent);
    return h !== undefined && h.until > now ? h.card : undefined;
  }

  /** The matching cards valid at `now`, best first (`rankCards`). */
  query(q: CapabilityQuery, now: number): CapabilityCard[] {
    return rankCards(this.list(now), q);
  }

  private expire(now: number): void {
    for (const [id, h] of this.cards) if (h.until <= now) this.cards.delete(id);
  }
}
