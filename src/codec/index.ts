/**
 * @module codec — canonical CBOR, BLAKE3-256, hex and JS-ABI frames: the bytes every other layer
 * hashes, signs, logs and sends. Depends on nothing but `errors`.
 */
export {
  blake3,
  blake3Hex,
  blake3Paced,
  blake3Stream,
  equalBytes,
  HASH_BYTES,
} from './blake3.js';
export { blake3Prefixed } from './blake3-small.js';
export { allocBytes, copyBytes } from './bytes.js';
export { decode, decodePrefix } from './decode.js';
export {
  compareEncodedKeys,
  encode,
  encodeHead,
  encodeMap,
  encodeTo,
  MapLayout,
} from './encode.js';
export {
  CborDecodeError,
  type CborDecodeReason,
  CborEncodeError,
  type CborEncodeReason,
  FrameChecksumError,
  FrameError,
  type FrameErrorReason,
} from './errors.js';
export {
  DEFAULT_MAX_FRAME_PAYLOAD,
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FRAME_OVERHEAD,
  FRAME_VERSION,
  type Frame,
  FrameReader,
} from './frame.js';
export { fromHex, isHashHex, toHex } from './hex.js';
export { isPlainMap, jsonProblem, toJsonText } from './json.js';
export { MAX_DEPTH } from './limits.js';
export { encodedLength, sizeBound } from './size.js';
export type { CborMap, CborValue } from './value.js';
