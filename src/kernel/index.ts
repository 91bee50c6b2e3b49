/**
 * @module kernel — shadow working sets and collapse over the durable store (DESIGN §4, RFC-0003,
 * RFC-0005): the patch model, SWS state and replay, three-way merge, and the Kernel itself.
 */
export {
  AUDIT_REF,
  type AuditEntry,
  type AuditEvent,
  type AuditProblem,
  type AuditVerdict,
  auditDigest,
  auditEntryOf,
  auditSigningBytes,
  MAX_AUDIT_EVENT_BYTES,
  RESERVED_REF_PREFIX,
  verifyAuditChain,
} from './audit.js';
export { type CollapsePlan, type Conflict, planCollapse } from './collapse.js';
export {
  AccessDeniedError,
  AuditChainError,
  AuditEventError,
  CollapseConflictError,
  KernelClosedError,
  PatchConflictError,
  PatchInputError,
  SwsNotFoundError,
  SwsStateError,
} from './errors.js';
export {
  type Change,
  type CommitResult,
  type CreateRequest,
  type FsckReport,
  Kernel,
  MAX_AUDIT_PAGE,
} from './kernel.js';
export { applyHunks, diffLines, fromLines, type Hunk, merge3, toLines } from './lines.js';
export {
  decodePatch,
  MAX_PATCH_OPS,
  type Patch,
  type PatchOp,
  patchId,
  patchValue,
} from './patch.js';
export {
  type Annotation,
  encodeSwsAnnotate,
  encodeSwsCreate,
  encodeSwsDestroy,
  encodeSwsPatch,
  encodeSwsTable,
  type OverlayEntry,
  Sws,
  type SwsHeader,
  type SwsState,
} from './sws.js';
export { buildTree, diffTrees, EMPTY_TREE_ID, listFiles, lookup, readTree } from './tree.js';
