import { randomUUID } from 'node:crypto';
import { PacketInputError } from './errors.js';
import { setOwn } from './forms.js';
import { type JitnaPacket, rfc3339, SCHEMA_VERSION } from './packet.js';
import { parseRfc3339 } from './time.js';

/**
 * The reference normalizer's aliases (`reference/jitna.md` §3), by canonical field, in order of
 * precedence: the canonical key always wins, then the aliases in the order listed here. (The
 * reference let whichever key came last in the input win.)
 */
export const ALIASES: Readonly<Record<string, readonly string[]>> = {
  source_agent_id: ['src', 'source', 'from'],
  target_agent_id: ['dst', 'target', 'to'],
  message_type: ['type', 'msg_type'],
  payload: ['data', 'body', 'content'],
  priority: ['prio'],
  timestamp: ['ts', 'time'],
  correlation_id: ['corr_id'],
  signature: ['sig'],
  metadata: ['meta'],
  packet_id: ['id'],
};

/**
 * Statuses of the other sources, lowercased: the TypeScript GUI's set (`SENT`, `PROCESSING`,
 * `COMPLETED`) and the RFC appendix's `PENDING`.
 */
export const STATUS_ALIASES: Readonly<Record<string, string>> = {
  sent: 'dispatched',
  processing: 'received',
  completed: 'processed',
  pending: 'created',
};

/** Message types of other sources, lowercased: the RFC appendix's and demo's `TASK_REQUEST`. */
export const MESSAGE_TYPE_ALIASES: Readonly<Record<string, string>> = {
  task_request: 'intent_request',
};

/** The SDK's priority words (`JITNAMeta.priority`), 1 the highest. */
export const PRIORITY_WORDS: Readonly<Record<string, number>> = {
  critical: 1,
  high: 2,
  medium: 3,
  low: 4,
};

export interface NormalizeOptions {
  /** The time a packet without one gets (ms); default `Date.now()`. */
  readonly now?: number;
}

const aliasOf = new Map<string, string>();
for (const [canonical, names] of Object.entries(ALIASES))
  for (const n of names) aliasOf.set(n, canonical);

/**
 * Turns what other JITNA sources send into a canonical packet, which `validatePacket` then
 * judges (the normalizer fixes spelling, never meaning):
 * - alias keys → canonical keys (the canonical key wins; see ALIASES for the rest);
 * - UPPERCASE enums → lowercase; the other sources' statuses and `TASK_REQUEST` mapped; `status`
 *   is kept (the reference dropped it);
 * - priority: an integer in a string (`"2"`) or a priority word (`"HIGH"`) → the integer; anything
 *   else stays for the validator to refuse (`true`, `2.5`);
 * - timestamps: Unix milliseconds (the RFC's envelope) and RFC 3339 with another offset → UTC;
 * - agent ids given as numbers → strings; `null` optional fields → left out;
 * - defaults: a new UUID v4, the time now, schema "3.0", priority 3, `intent_request`,
 *   `created`, empty payload and metadata.
 * Unknown keys are kept (the validator warns about them). Throws PacketInputError for a value
 * that is not a map.
 */
export function normalizePacket(raw: unknown, opts: NormalizeOptions = {}): JitnaPacket {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array)
    throw new PacketInputError(
      `a packet is a map of fields, not ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}`,
    );
  const src = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // canonical keys first, then aliases in the order of ALIASES
  for (const [k, v] of Object.entries(src)) if (!aliasOf.has(k)) setOwn(out, k, v);
  for (const [canonical, names] of Object.entries(ALIASES))
    for (const n of names)
      if (out[canonical] === undefined && src[n] !== undefined) out[canonical] = src[n];
  for (const k of Object.keys(out)) if (out[k] === null) delete out[k];

  const lower = (v: unknown, aliases: Readonly<Record<string, string>>): unknown => {
    if (typeof v !== 'string') return v;
    const l = v.toLowerCase();
    return aliases[l] ?? l;
  };
  if (out.message_type !== undefined)
    out.message_type = lower(out.message_type, MESSAGE_TYPE_ALIASES);
  if (out.status !== undefined) out.status = lower(out.status, STATUS_ALIASES);
  if (typeof out.priority === 'string') {
    const s = out.priority.trim();
    const word = PRIORITY_WORDS[s.toLowerCase()];
    if (word !== undefined) out.priority = word;
    else if (/^[0-9]+$/.test(s)) out.priority = Number(s);
  }
  for (const f of ['source_agent_id', 'target_agent_id'])
    if (typeof out[f] === 'number') out[f] = String(out[f]);
  if (typeof out.packet_id === 'string' && /^[0-9A-F-]{36}$/i.test(out.packet_id))
    out.packet_id = out.packet_id.toLowerCase();
  for (const f of ['timestamp', 'expires_at']) {
    const v = out[f];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) out[f] = rfc3339(v);
    else if (typeof v === 'string') {
      const t = parseRfc3339(v);
      if (t !== undefined && !t.utc) out[f] = rfc3339(t.ms);
    }
  }
  const now = opts.now ?? Date.now();
  return {
    packet_id: randomUUID(),
    source_agent_id: '',
    target_agent_id: '',
    message_type: 'intent_request',
    payload: {},
    timestamp: rfc3339(now),
    schema_version: SCHEMA_VERSION,
    priority: 3,
    metadata: {},
    status: 'created',
    ...out,
  } as JitnaPacket;
}
