/**
 * @module jitna — the JITNA protocol (DESIGN §8, docs/JITNA.md): one packet schema with strict
 * validation, a normalizer for what other JITNA sources send, canonical CBOR and JSON forms,
 * whole-packet Ed25519 signatures with replay protection, a verifier for the Python reference's
 * legacy signatures, compression and signed streams, and a bounded packet registry. Depends on
 * codec and identity.
 */

export { jsonProblem } from '../codec/index.js';
export {
  fromIntake,
  fromRfcEnvelope,
  type Intake,
  intakeHash,
  type RfcEnvelope,
  rfcChecksum,
  toIntake,
  toRfcEnvelope,
} from './adapters.js';
export { createPacket, type PacketFields } from './create.js';
export {
  CARD_STATUSES,
  type CapabilityCard,
  type CapabilityQuery,
  CapabilityRegistry,
  type CardStatus,
  cardProblem,
  rankCards,
} from './discovery.js';
export { PacketInputError, PacketInvalidError, PacketRefusedError, StreamError } from './errors.js';
export { packetFromCbor, packetFromJson, packetToCbor, packetToJson } from './forms.js';
export {
  LEGACY_FIELDS,
  type LegacyVerdict,
  legacyHash,
  PyFloat,
  type PyJson,
  parsePyJson,
  pyFloatRepr,
  pyJsonDumps,
  verifyLegacyPacket,
} from './legacy.js';
export {
  NEGOTIATION_KINDS,
  Negotiation,
  type NegotiationKind,
  type NegotiationOptions,
  type NegotiationState,
  negotiationMessageType,
  type Offer,
  type Step,
  type StepFields,
  type StepOutcome,
  stepOf,
  stepPayload,
  TERMINAL_STATES,
} from './negotiation.js';
export {
  ALIASES,
  MESSAGE_TYPE_ALIASES,
  type NormalizeOptions,
  normalizePacket,
  PRIORITY_WORDS,
  STATUS_ALIASES,
} from './normalize.js';
export {
  BROADCAST,
  DEFAULT_TTL,
  FIELDS,
  type JitnaPacket,
  type Json,
  type JsonMap,
  MAX_METADATA_BYTES,
  MAX_PAYLOAD_BYTES,
  MESSAGE_TYPES,
  type MessageType,
  rfc3339,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS,
  type SchemaVersion,
  STATUSES,
  type Status,
  V2_MESSAGE_TYPES,
} from './packet.js';
export { DuplicatePacketError, PacketRegistry } from './registry.js';
export { ReplayCache } from './replay-cache.js';
export {
  DEFAULT_PACKET_TTL_MS,
  MAX_PACKET_LIFETIME_MS,
  PACKET_DOMAIN,
  type PacketKeys,
  type PacketRefusal,
  type PacketVerdict,
  PacketVerifier,
  type PacketVerifierOptions,
  packetSigningBytes,
  type SignPacketOptions,
  signPacket,
} from './sign.js';
export {
  compressPacket,
  DEFAULT_CHUNK_CHARS,
  decompressPayload,
  MAX_CHUNKS,
  StreamAssembler,
  type StreamOptions,
  streamPackets,
} from './stream.js';
export { type Instant, parseRfc3339 } from './time.js';
export {
  type Issue,
  type IssueCode,
  type ValidateOptions,
  type ValidationResult,
  validatePacket,
} from './validate.js';
