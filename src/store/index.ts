/**
 * @module store — the durable DAG and refs of one data directory: WAL-backed node bytes, admission
 * against in-flight state, checkpoints, boot by replay, and the directory lock.
 */
export { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
export {
  RefConflictError,
  RefInputError,
  RefNotFoundError,
  StoreClosedError,
  StoreLockedError,
  WalReplayError,
} from './errors.js';
export { lockDir } from './lock.js';
export {
  AUDIT_REF,
  checkRefName,
  checkRefUpdate,
  decodeRefUpdate,
  encodeRefUpdate,
  type Ref,
  type RefKind,
  type RefLink,
  type RefUpdate,
} from './refs.js';
export { repairStore, type StoreRepairResult } from './repair.js';
export { type ReadOnlyReplay, replayReadOnly } from './replay.js';
export {
  type BootStats,
  type CheckpointExtension,
  type KnownNode,
  type OpenOptions,
  Store,
  storeDigest,
  storePaths,
  type Tx,
} from './store.js';
export { WalNodeSource } from './wal-source.js';
