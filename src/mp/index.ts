/**
 * @module mp — the Message Plane (DESIGN §6, RFC-0008): envelopes, topics and patterns, the
 * transport interface with its in-process `memory` adapter, and the plane API over any transport.
 * Advisory only: nothing here changes the kernel's state.
 */

export { KERNEL_AGENT } from '../identity/index.js';
export {
  type Answered,
  type AnswerStore,
  FileAnswers,
  type MarkedAt,
  MemoryAnswers,
} from './answers.js';
export { BRIDGE_GROUP, type Bridge, type BridgeOptions, startBridge } from './bridge.js';
export {
  checkSignature,
  decodeEnvelope,
  decodeEnvelopeGeneric,
  ENVELOPE_VERSION,
  type Envelope,
  encodeEnvelope,
  envelopeLength,
  MAX_ENVELOPE_BYTES,
  MESSAGE_ID_BYTES,
  messageIdHex,
  newMessageId,
  seal,
  sealBatch,
  signingBytes,
  tooLargeToBatch,
} from './envelope.js';
export {
  EnvelopeError,
  ImpersonationError,
  PayloadTooLargeError,
  PlaneClosedError,
  PlaneOptionError,
  PlaneUnavailableError,
  StaleStreamError,
  TopicError,
} from './errors.js';
export { MARK_WINDOW, type MarkRefusal, type StreamMark, StreamMarks } from './marks.js';
export { MemoryBroker } from './memory.js';
export { type NativeAddress, NativeTransport } from './native.js';
export { openTransport, redactUrl } from './open.js';
export {
  CLOCK_SKEW_MS,
  DEAD_LETTER_PREFIX,
  DEFAULT_BATCH,
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_TTL_MS,
  type DeadLetter,
  deadLetterTopic,
  expiryProblem,
  MAX_TTL_MS,
  type Message,
  Plane,
  type PlaneOptions,
  type PlaneStats,
  type PlaneSubscribeOptions,
  type PlaneSubscription,
  type Refusal,
  type Rejection,
  type RejectReason,
} from './plane.js';
export { relayOps } from './relay.js';
export { checkPattern, checkTopic, isKernelTopic, patternMatcher, Topics } from './topic.js';
export type {
  Delivery,
  PublishOptions,
  SubscribeOptions,
  Transport,
  TransportGap,
  TransportHealth,
  TransportSubscription,
} from './transport.js';
export { type Gap, RecentKeys, RecentPairs, Reorder } from './window.js';
