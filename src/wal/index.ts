/**
 * @module wal — the write-ahead log (RFC-0006, DESIGN §4): record framing with frozen op numbers,
 * a group-commit writer that acknowledges only after fdatasync, a verifying scanner that tells a
 * torn tail from corruption, recovery on open, and repair.
 */
export {
  WalClosedError,
  WalCorruptionError,
  type WalCorruptionReason,
  WalRecordError,
} from './errors.js';
export {
  encodeRecord,
  MAX_RECORD_PAYLOAD,
  type ParseResult,
  parseRecord,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD,
  WAL_MAGIC,
  WAL_VERSION,
  WalOp,
  type WalOpName,
  type WalOpNumber,
  type WalRecord,
  walOpName,
} from './format.js';
export { type OpenedLog, openLog, type RepairResult, repairLog, setAside, syncDir } from './log.js';
export { type LogTail, type ScanOptions, type ScanResult, scanLog } from './scan.js';
export { type Appended, type WalEntry, type WalSyncObserver, WalWriter } from './writer.js';
