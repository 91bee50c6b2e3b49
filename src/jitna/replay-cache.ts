/**
 * Packets already taken, by (sender, nonce) and by (sender, packet_id), each until it expires: a
 * copy of a verified packet is refused as `replayed` for as long as it could be acted on at all.
 * Bounded: when full, expired entries go first, then the oldest (a copy of an evicted packet
 * could then pass again, within its expiry: PacketVerifier caps a packet's lifetime at 10 min by
 * default, so the default 200,000 entries hold 333 packets a second for their whole lives).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly capacity: number;
  /** Entries evicted before they expired (each a window a replay could use). */
  evicted = 0;

  constructor(capacity = 200_000) {
    if (!Number.isSafeInteger(capacity) || capacity < 2)
      throw new RangeError(`a replay cache holds 2 entries or more, not ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Has (sender, nonce) or (sender, id) been taken and not yet expired? */
  has(sender: string, nonce: string, id: string, now: number): boolean {
    for (const k of [`${sender}\u0000n${nonce}`, `${sender}\u0000i${id}`]) {
      const until = this.seen.get(k);
      if (until !== undefined && until > now) return true;
    }
    return false;
  }

  /** Remembers a packet taken, until `expires` (ms). */
  add(sender: string, nonce: string, id: string, expires: number, now: number): void {
    if (this.seen.size + 2 > this.capacity) this.sweep(now);
    this.seen.set(`${sender}\u0000n${nonce}`, expires);
    this.seen.set(`${sender}\u0000i${id}`, expires);
  }

  private sweep(now: number): void {
    for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
    for (const k of this.seen.keys()) {
      if (this.seen.size + 2 <= this.capacity) break;
      this.seen.delete(k);
      this.evicted++;
    }
  }

  clear(): void {
    this.seen.clear();
  }
}
