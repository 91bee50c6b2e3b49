import { JitError } from '../errors/index.js';
import type { JitnaPacket, MessageType } from './packet.js';

/** A packet id the registry holds already (ids are unique: a second packet with one is refused). */
export class DuplicatePacketError extends JitError {
  override readonly name = 'DuplicatePacketError';
  readonly codeName = 'E_CONFLICT' as const;
}

/**
 * Packets by id and by correlation chain (the reference's `JITNAProtocolRegistry`), bounded: past
 * `capacity` the oldest packet goes (and leaves its chain). A second packet with an id already
 * held is refused rather than silently overwriting the first.
 */
export class PacketRegistry {
  private readonly packets = new Map<string, JitnaPacket>();
  private readonly chains = new Map<string, string[]>();
  private readonly capacity: number;

  constructor(capacity = 100_000) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`a registry holds 1 packet or more, not ${capacity}`);
    this.capacity = capacity;
  }

  /** Keeps a packet; throws DuplicatePacketError for an id it holds. */
  register(p: JitnaPacket): void {
    if (this.packets.has(p.packet_id))
      throw new DuplicatePacketError(`packet ${p.packet_id} is registered already`, {
        packet_id: p.packet_id,
      });
    if (this.packets.size >= this.capacity) this.evictOldest();
    this.packets.set(p.packet_id, p);
    if (p.correlation_id !== undefined) {
      const chain = this.chains.get(p.correlation_id);
      if (chain === undefined) this.chains.set(p.correlation_id, [p.packet_id]);
      else chain.push(p.packet_id);
    }
  }

  get(id: string): JitnaPacket | undefined {
    return this.packets.get(id);
  }

  /** The packets of a correlation chain, in the order they were registered. */
  getChain(correlationId: string): JitnaPacket[] {
    return (this.chains.get(correlationId) ?? []).map((id) => this.packets.get(id)!);
  }

  get packetCount(): number {
    return this.packets.size;
  }

  get chainCount(): number {
    return this.chains.size;
  }

  /** As the reference's `get_statistics()`. */
  statistics(): {
    total_packets: number;
    total_chains: number;
    packets_by_type: Partial<Record<MessageType, number>>;
  } {
    const byType: Partial<Record<MessageType, number>> = {};
    for (const p of this.packets.values())
      byType[p.message_type] = (byType[p.message_type] ?? 0) + 1;
    return {
      total_packets: this.packets.size,
      total_chains: this.chains.size,
      packets_by_type: byType,
    };
  }

  clear(): void {
    this.packets.clear();
    this.chains.clear();
  }

  private evictOldest(): void {
    const [id, p] = this.packets.entries().next().value as [string, JitnaPacket];
    this.packets.delete(id);
    if (p.correlation_id === undefined) return;
    const chain = this.chains.get(p.correlation_id);
    if (chain === undefined) return;
    const at = chain.indexOf(id);
    if (at >= 0) chain.splice(at, 1);
    if (chain.length === 0) this.chains.delete(p.correlation_id);
  }
}
