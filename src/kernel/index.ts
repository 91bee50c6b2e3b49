/**
 * @module kernel — shadow working sets and collapse over the durable store (DESIGN §4, RFC-0003,
 * RFC-0005): the patch model, SWS state and replay, three-way merge, and the Kernel itself.
 */
export { type CollapsePlan, type Conflict, planCollapse } from './collapse.js';
export {
  AccessDeniedError,
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
