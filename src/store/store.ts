import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { blake3Hex, encode, HASH_BYTES } from '../codec/index.js';
import {
  Dag,
  type DagReader,
  encodeNode,
  type JitNode,
  type NodeId,
  NodeIndex,
  ROOT_BYTES,
  ROOT_ID,
} from '../dag/index.js';
import { JitError } from '../errors/index.js';
import { type GiveWay, giveWay } from '../util/give-way.js';
import {
  type Appended,
  openLog,
  RECORD_HEADER_BYTES,
  WalClosedError,
  WalOp,
  type WalRecord,
  type WalSyncObserver,
  type WalWriter,
} from '../wal/index.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { StoreClosedError, WalReplayError } from './errors.js';
import { lockDir } from './lock.js';
import { checkRefUpdate, decodeRefUpdate, type Ref, type RefUpdate } from './refs.js';
import { Admitted, Transaction, type Tx } from './transaction.js';
import { WalNodeSource } from './wal-source.js';

export type { KnownNode, Tx } from './transaction.js';

export interface BootStats {
  /** 'used', 'none', or why the checkpoint was ignored. */
  readonly checkpoint: string;
  /** Records replayed from the log (after the checkpoint, if one was used). */
  readonly replayed: number;
  /** Bytes of a torn tail cut off at boot. */
  readonly truncated: number;
  /** Boot time in milliseconds (not part of any state). */
  readonly ms: number;
}

/**
 * The `ext` of a checkpoint. The layers above take their state when the store calls them (at the
 * checkpoint's offset, synchronously) and answer a function that makes its bytes later, as
 * pieces to be concatenated, awaiting `pause` between steps.
 */
export type CheckpointExtension = (pause: GiveWay) => Promise<readonly Uint8Array[]>;

export interface OpenOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (offset: number, size: number) => void;
  /**
   * Every record but CREATE_NODE, in log order, after the store applied its own part: SWS_* and
   * SYNC_EVENT for the layers that own them, SET_REF so a collapse's commit marker is seen.
   */
  readonly onRecord?: (record: WalRecord) => void;
  /**
   * Called with the `ext` of the checkpoint boot starts from (before the records after it are
   * replayed), or with null when boot replays from the start.
   */
  readonly onCheckpoint?: (ext: Uint8Array | null) => void;
}

/** Paths inside a data directory. */
export function storePaths(dir: string): { wal: string; checkpoint: string; lock: string } {
  return {
    wal: join(dir, 'wal', 'log.wal'),
    checkpoint: join(dir, 'wal', 'checkpoint.cbor'),
    lock: join(dir, 'LOCK'),
  };
}

/**
 * The durable DAG and refs of one data directory. Every write is checked against the admitted
 * state (what is applied plus what is in flight), written to the WAL, acknowledged once durable
 * and only then applied, so nothing unacknowledged is ever visible and concurrent writers share
 * group commits. Boot loads the checkpoint, if any, and replays the rest of the log through the
 * same checks.
 */
export class Store {
  readonly dir: string;
  readonly boot: BootStats;
  private readonly dag: Dag;
  private readonly refTable = new Map<string, Ref>();
  private readonly source: WalNodeSource;
  private readonly writer: WalWriter;
  private readonly release: () => Promise<void>;
  private readonly admitted: Admitted;
  private failure: Error | undefined;
  /** Provides the `ext` of each checkpoint: the state of the layers above, set by them. */
  checkpointExtension: (() => CheckpointExtension) | undefined;
  /** The checkpoint being written, if any (never rejects). */
  private checkpointing: Promise<unknown> = Promise.resolve();
  /** Resolves once everything admitted so far is durable (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(init: {
    dir: string;
    dag: Dag;
    refs: Map<string, Ref>;
    source: WalNodeSource;
    writer: WalWriter;
    release: () => Promise<void>;
    boot: BootStats;
  }) {
    this.dir = init.dir;
    this.dag = init.dag;
    this.refTable = init.refs;
    this.admitted = new Admitted(init.dag, init.refs);
    this.source = init.source;
    this.writer = init.writer;
    this.release = init.release;
    this.boot = init.boot;
  }

  static async open(dir: string, opts: OpenOptions = {}): Promise<Store> {
    const started = performance.now();
    const paths = storePaths(dir);
    await mkdir(join(dir, 'wal'), { recursive: true, mode: 0o700 });
    const release = await lockDir(paths.lock);
    try {
      const cp = await readCheckpoint(paths.checkpoint);
      let checkpoint = typeof cp !== 'string' ? 'used' : cp === 'none' ? 'none' : `ignored: ${cp}`;
      let from = 0;
      let fromTs = 0;
      let index = new NodeIndex();
      const refs = new Map<string, Ref>();
      if (typeof cp !== 'string') {
        const why = await checkpointMismatch(paths.wal, cp.walOffset, cp.lastSum);
        if (why === undefined) {
          from = cp.walOffset;
          fromTs = cp.lastTs;
          index = cp.index;
          for (const r of cp.refs) refs.set(r.name, r);
          opts.onCheckpoint?.(cp.ext);
        } else {
          checkpoint = `ignored: ${why}`;
        }
      }
      if (from === 0) opts.onCheckpoint?.(null);
      // the source reads the log file, so it must exist before the source opens it
      await (await open(paths.wal, 'a')).close();
      const source = new WalNodeSource(paths.wal);
      const dag = new Dag(source, index);
      let replayed = 0;
      const onRecord = (rec: WalRecord): void => {
        replayed++;
        try {
          applyRecord(dag, refs, rec, opts.onRecord);
        } catch (e) {
          if (!(e instanceof JitError)) throw e;
          throw new WalReplayError(
            `${paths.wal}: record at byte offset ${rec.offset} (ts ${rec.ts}) does not replay: ${e.message}`,
            { file: paths.wal, offset: rec.offset },
            { cause: e },
          );
        }
      };
      let opened: Awaited<ReturnType<typeof openLog>>;
      try {
        opened = await openLog(paths.wal, {
          from,
          fromTs,
          onRecord,
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (e) {
        source.close();
        throw e;
      }
      const store = new Store({
        dir,
        dag,
        refs,
        source,
        writer: opened.writer,
        release,
        boot: {
          checkpoint,
          replayed,
          truncated: opened.truncated,
          ms: performance.now() - started,
        },
      });
      if (!dag.has(ROOT_ID)) await store.putBytes([ROOT_BYTES]);
      return store;
    } catch (e) {
      await release();
      throw e;
    }
  }

  /** The DAG, read-only. */
  get reader(): DagReader {
    return this.dag.reader();
  }

  /** Durable size of the log in bytes. */
  get walBytes(): number {
    return this.writer.end;
  }

  /** The log's group commits so far, and the bytes admitted but not yet durable. */
  get walStats(): { readonly syncs: number; readonly pendingBytes: number } {
    return { syncs: this.writer.syncs, pendingBytes: this.writer.pendingBytes };
  }

  /** Tells `observer` of every group commit (metrics); undefined stops it. */
  observeWalSyncs(observer: WalSyncObserver | undefined): void {
    this.writer.onSync = observer;
  }

  /** True when nothing admitted is still waiting for its sync. */
  get idle(): boolean {
    return this.writer.idle;
  }

  /** The last logical timestamp the log assigned. */
  get lastTs(): number {
    return this.writer.lastTs;
  }

  private usable(signal?: AbortSignal): void {
    signal?.throwIfAborted();
    if (this.closed) throw new StoreClosedError('the store is closed');
    if (this.failure)
      throw new StoreClosedError(
        'the store failed; reopen it to recover',
        {},
        { cause: this.failure },
      );
  }

  /** Checks, logs and applies nodes (all or nothing); resolves with their ids once durable. */
  put(nodes: readonly JitNode[], opts: { signal?: AbortSignal } = {}): Promise<NodeId[]> {
    return this.putBytes(nodes.map(encodeNode), opts);
  }

  async putBytes(
    batch: readonly Uint8Array[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<NodeId[]> {
    const { result, durable } = this.transact((tx) => tx.putNodes(batch), opts);
    await durable;
    return result;
  }

  /** Checks, logs and applies one ref update; resolves with the ref (null: deleted) once durable. */
  async setRef(u: RefUpdate, opts: { signal?: AbortSignal } = {}): Promise<Ref | null> {
    const { result, durable } = this.transact((tx) => tx.setRef(u), opts);
    await durable;
    return result;
  }

  /**
   * Runs `build` synchronously against the admitted state (what is applied plus what is in
   * flight): every node, ref update and record it adds is checked as it is added, and a throw
   * undoes them all. The records then go to the log in one append. `durable` resolves once they
   * (and everything admitted before them) are durable and applied; a transaction that adds nothing
   * still waits for what was admitted before it, so its answer never rests on non-durable state.
   */
  transact<T>(
    build: (tx: Tx) => T,
    opts: { signal?: AbortSignal } = {},
  ): { result: T; durable: Promise<void> } {
    this.usable(opts.signal);
    const tx = new Transaction(this.dag, this.admitted);
    let result: T;
    try {
      result = build(tx);
    } catch (e) {
      tx.undo();
      throw e;
    }
    const { entries, nodes, refs } = tx;
    if (entries.length === 0) return { result, durable: this.tail };
    let appended: Promise<Appended[]>;
    try {
      appended = this.writer.append(entries);
    } catch (e) {
      tx.undo();
      throw e;
    }
    const durable = appended.then(
      (done) => {
        this.dag.apply(
          nodes.map((n) => n.prepared),
          nodes.map((n) => done[n.entry]!.offset + RECORD_HEADER_BYTES),
        );
        for (const r of refs) {
          if (r.next === null) this.refTable.delete(r.name);
          else this.refTable.set(r.name, r.next);
          this.admitted.releaseRef(r.name);
        }
        for (const n of nodes) this.admitted.releaseNode(n.prepared.id);
      },
      (e: unknown) => {
        // only a failed write or sync poisons the store; a refused record changed nothing
        if (e instanceof WalClosedError) this.failure ??= e;
        throw e;
      },
    );
    this.tail = durable.catch(() => undefined);
    return { result, durable };
  }

  getRef(name: string): Ref | undefined {
    return this.refTable.get(name);
  }

  /** Durable refs, sorted by name. */
  refs(): Ref[] {
    return [...this.refTable.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  /** A digest of DAG and refs: equal exactly when two stores hold the same truth. */
  digest(): string {
    return storeDigest(this.dag, this.refTable);
  }

  /**
   * Writes a checkpoint of the state at the log's current end and logs a CHECKPOINT record. The
   * state is taken in one synchronous step at a quiet point (nothing admitted is still on its
   * way to the log), so the index, the refs and `ext` all describe the log up to `walOffset`
   * exactly; writes go on meanwhile. Everything that costs time in proportion to the state (the
   * index dump, `ext`, the checksum) is then made in steps that give way to the event loop, so a
   * checkpoint does not stall the kernel. One at a time: a call while one runs waits for it.
   */
  checkpoint(
    opts: {
      signal?: AbortSignal;
      /** How to give way between steps. @default every 4 ms (`noGiveWay`: in one go) */
      pause?: GiveWay;
    } = {},
  ): Promise<{ walOffset: number; bytes: number }> {
    this.usable(opts.signal);
    const run = this.checkpointing.then(() => this.checkpointNow(opts));
    this.checkpointing = run.catch(() => undefined);
    return run;
  }

  private async checkpointNow(opts: {
    signal?: AbortSignal;
    pause?: GiveWay;
  }): Promise<{ walOffset: number; bytes: number }> {
    this.usable(opts.signal);
    do await this.writer.flush();
    while (!this.writer.idle);
    const walOffset = this.writer.end;
    const lastSum =
      walOffset === 0 ? new Uint8Array(0) : this.source.read(walOffset - HASH_BYTES, HASH_BYTES);
    const lastTs = this.writer.lastTs;
    const refs = this.refs();
    const index = this.dag.index.snapshot();
    let ext: CheckpointExtension | undefined;
    try {
      ext = this.checkpointExtension?.();
    } catch (e) {
      index.close();
      throw e;
    }
    const pause = opts.pause ?? giveWay();
    const { sum, bytes } = await writeCheckpoint(
      storePaths(this.dir).checkpoint,
      {
        walOffset,
        lastTs,
        lastSum,
        refs,
        index: await index.dump(pause),
        ext: ext === undefined ? null : await ext(pause),
      },
      pause,
    );
    await this.writer.append([
      { op: WalOp.CHECKPOINT, payload: encode({ wal_offset: walOffset, sum }) },
    ]);
    return { walOffset, bytes };
  }

  /** Flushes, closes the log and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    this.source.close();
    await this.release();
  }
}

/** Why a checkpoint does not fit this log, or undefined when it does. */
async function checkpointMismatch(
  wal: string,
  offset: number,
  lastSum: Uint8Array,
): Promise<string | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(wal, 'r');
  } catch {
    return 'the log is missing';
  }
  try {
    const size = (await fh.stat()).size;
    if (offset > size) return `it covers ${offset} bytes of a ${size}-byte log`;
    if (offset === 0) return lastSum.length === 0 ? undefined : 'it does not match the log';
    const sum = new Uint8Array(HASH_BYTES);
    await fh.read(sum, 0, HASH_BYTES, offset - HASH_BYTES);
    return Buffer.compare(sum, lastSum) === 0 ? undefined : 'it does not match the log';
  } finally {
    await fh.close();
  }
}

/** Applies one verified record to the DAG and refs, with the same checks as a live write. */
export function applyRecord(
  dag: Dag,
  refs: Map<string, Ref>,
  rec: WalRecord,
  foreign?: (r: WalRecord) => void,
): void {
  switch (rec.op) {
    case WalOp.CREATE_NODE: {
      dag.applyLogged(rec.payload, rec.offset + RECORD_HEADER_BYTES);
      return;
    }
    case WalOp.SET_REF: {
      const u = decodeRefUpdate(rec.payload);
      const next = checkRefUpdate(u, refs.get(u.name), (id) =>
        dag.has(id) ? dag.info(id).type : undefined,
      );
      if (next === null) refs.delete(u.name);
      else refs.set(u.name, next);
      foreign?.(rec);
      return;
    }
    case WalOp.CHECKPOINT:
      return;
    default:
      foreign?.(rec);
  }
}

/** The digest of a DAG and its refs: equal exactly when two stores hold the same truth. */
export function storeDigest(dag: DagReader, refs: ReadonlyMap<string, Ref>): string {
  const sorted = [...refs.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return blake3Hex(
    encode({ dag: dag.digest(), refs: sorted.map((r) => [r.name, r.kind, r.target]) }),
  );
}
