import { randomUUID } from 'node:crypto';
import {
  type JitnaPacket,
  type JsonMap,
  type MessageType,
  rfc3339,
  SCHEMA_VERSION,
} from './packet.js';

export interface PacketFields {
  readonly source: string;
  readonly target: string;
  readonly type: MessageType;
  readonly payload?: JsonMap;
  /** 1 (highest) to 5; default 3. */
  readonly priority?: number;
  readonly correlationId?: string;
  readonly inReplyTo?: string;
  readonly seq?: number;
  readonly metadata?: JsonMap;
  /** The creation time (ms), default now. */
  readonly now?: number;
}

/** A new "3.0" packet (a fresh UUID v4, the time now, status `created`), not yet signed. */
export function createPacket(f: PacketFields): JitnaPacket {
  return {
    packet_id: randomUUID(),
    source_agent_id: f.source,
    target_agent_id: f.target,
    message_type: f.type,
    payload: f.payload ?? {},
    timestamp: rfc3339(f.now ?? Date.now()),
    schema_version: SCHEMA_VERSION,
    priority: f.priority ?? 3,
    metadata: f.metadata ?? {},
    status: 'created',
    ...(f.correlationId !== undefined ? { correlation_id: f.correlationId } : {}),
    ...(f.inReplyTo !== undefined ? { in_reply_to: f.inReplyTo } : {}),
    ...(f.seq !== undefined ? { seq: f.seq } : {}),
  };
}
