/**
 * @module identity — Ed25519 keys, signers and verifiers, and the trust store that binds agent ids
 * to public keys (DESIGN §7). Used by the kernel, rpc, mp and jitna layers; depends on codec.
 */

export {
  type BatchProof,
  BatchVerifier,
  batchSigningBytes,
  leafHash,
  MAX_BATCH,
  pathLength,
  proofShapeProblem,
  SignedBatch,
  signBatch,
} from './batch.js';
export {
  AgentExistsError,
  IdentityInputError,
  KeyFileError,
  KeyPermissionError,
  TrustStoreError,
  UnknownAgentError,
} from './errors.js';
export { ADMIN_AGENT, adminSigner, identityPaths, KERNEL_AGENT, openHomeIdentity } from './home.js';
export {
  fingerprint,
  KeyPair,
  PUBLIC_KEY_BYTES,
  publicKeyObject,
  SIGNATURE_BYTES,
  verifyEd25519,
} from './keys.js';
export { keySigner, type Signer, staticVerifier, type Verdict, type Verifier } from './signer.js';
export { type AgentRole, checkAgentId, ROLES, type TrustedAgent, TrustStore } from './trust.js';
