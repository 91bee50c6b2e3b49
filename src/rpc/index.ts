/**
 * @module rpc — RFC-0007 requests and answers in JS-ABI frames over a Unix socket or loopback TCP:
 * envelopes, the wire error mapping, a multiplexing server and a typed client.
 */

export { type GuardOptions, guardOps } from './access.js';
export { aclOps, rulesDigest } from './acl.js';
export { adminAuth, adminSigningBytes, agentOps } from './admin.js';
export { RpcClient } from './client.js';
export {
  AuthError,
  BadRequestError,
  ConnectionError,
  InvalidOpError,
  RemoteError,
  toWireError,
  type WireError,
} from './errors.js';
export { CAPABILITIES, kernelOps, nodeView } from './ops.js';
export {
  decodeRequest,
  decodeResponse,
  encodeRequestFrame,
  encodeResponseFrame,
  type Request,
  type Response,
} from './protocol.js';
export {
  type Handler,
  type HandlerContext,
  MAX_BAD_REQUESTS,
  RpcServer,
  type Session,
} from './server.js';
export { sessionOps } from './session.js';
