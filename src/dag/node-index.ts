/**
 * The DAG's in-memory index: NodeID → {type code, lamport, has-children flag, location, length}.
 * Open-addressing hash tables over typed arrays, so a million nodes cost about 100 bytes each (a
 * Map of objects costs several times that). Keys are the 32 id bytes; BLAKE3 digests are uniform,
 * so their bytes are the hash: byte 0 picks one of 256 shards, bytes 4–7 the slot. Sharding keeps
 * every grow small (one shard doubles at a time: a single table of 1.5M entries stalled 0.8 s).
 * Insertion order is kept (a shard number per entry, and each shard's own order), so iteration and
 * checkpoints follow WAL order and never the table layout.
 */

import { toHex } from '../codec/index.js';
import { IndexSnapshotOpenError } from './errors.js';

const KEY = 32;
const FLAG_HAS_CHILDREN = 1;
/** Bytes per entry of `NodeIndex.dump`. */
const DUMP_ENTRY = KEY + 1 + 1 + 4 + 8 + 4;
/** Entries a snapshot dumps between two pauses. */
const DUMP_STEP = 4096;

export interface IndexEntry {
  readonly typeCode: number;
  readonly lamport: number;
  readonly hasChildren: boolean;
  readonly loc: number;
  readonly len: number;
}

/** A point-in-time view of a {@link NodeIndex}, dumped later (`NodeIndex.snapshot`). */
export interface IndexSnapshot {
  /** Entries in the snapshot. */
  readonly count: number;
  /** The dump of the index as it was, awaiting `pause` between steps; ends the snapshot. */
  dump(pause: () => Promise<void>): Promise<Uint8Array>;
  /** Ends the snapshot without a dump. Idempotent. */
  close(): void;
}

/** One shard: an open-addressing table with its own insertion order. */
class IndexShard {
  private cap: number;
  private keys: Uint8Array;
  private types: Uint8Array;
  private flags: Uint8Array;
  private lamports: Uint32Array;
  private locs: Float64Array;
  private lens: Uint32Array;
  /** Slot of the i-th inserted node. */
  private order: Uint32Array;
  private n = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.cap = cap;
    this.keys = new Uint8Array(cap * KEY);
    this.types = new Uint8Array(cap);
    this.flags = new Uint8Array(cap);
    this.lamports = new Uint32Array(cap);
    this.locs = new Float64Array(cap);
    this.lens = new Uint32Array(cap);
    this.order = new Uint32Array(Math.max(16, cap >> 1));
  }

  get size(): number {
    return this.n;
  }

  /** Bytes held by the table's arrays. */
  get memoryBytes(): number {
    return (
      this.keys.byteLength +
      this.types.byteLength +
      this.flags.byteLength +
      this.lamports.byteLength +
      this.locs.byteLength +
      this.lens.byteLength +
      this.order.byteLength
    );
  }

  /** The slot holding `id` (32 bytes), or -1. */
  private find(id: Uint8Array): number {
    const mask = this.cap - 1;
    let s = ((id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!) & mask;
    for (;;) {
      if (this.types[s] === 0) return -1;
      const base = s * KEY;
      let eq = true;
      for (let i = 0; i < KEY; i++) {
        if (this.keys[base + i] !== id[i]) {
          eq = false;
          break;
        }
      }
      if (eq) return s;
      s = (s + 1) & mask;
    }
  }

  private freeSlot(id: Uint8Array): number {
    const mask = this.cap - 1;
    let s = ((id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!) & mask;
    while (this.types[s] !== 0) s = (s + 1) & mask;
    return s;
  }

  has(id: Uint8Array): boolean {
    return this.find(id) >= 0;
  }

  get(id: Uint8Array): IndexEntry | undefined {
    const s = this.find(id);
    return s < 0 ? undefined : this.entry(s);
  }

  private entry(slot: number): IndexEntry {
    return {
      typeCode: this.types[slot]!,
      lamport: this.lamports[slot]!,
      hasChildren: (this.flags[slot]! & FLAG_HAS_CHILDREN) !== 0,
      loc: this.locs[slot]!,
      len: this.lens[slot]!,
    };
  }

  /** Adds a new id (the caller has checked it is absent). `typeCode` must be non-zero. */
  insert(
    id: Uint8Array,
    typeCode: number,
    lamport: number,
    loc: number,
    len: number,
    hasChildren = false,
  ): void {
    if ((this.n + 1) * 10 > this.cap * 7) this.grow();
    const s = this.freeSlot(id);
    this.keys.set(id.subarray(0, KEY), s * KEY);
    this.types[s] = typeCode;
    this.flags[s] = hasChildren ? FLAG_HAS_CHILDREN : 0;
    this.lamports[s] = lamport;
    this.locs[s] = loc;
    this.lens[s] = len;
    if (this.n === this.order.length) {
      const next = new Uint32Array(this.order.length * 2);
      next.set(this.order);
      this.order = next;
    }
    this.order[this.n++] = s;
  }

  /** Sets the has-children flag; true when it was not set before. */
  markHasChildren(id: Uint8Array): boolean {
    const s = this.find(id);
    if (s < 0 || (this.flags[s]! & FLAG_HAS_CHILDREN) !== 0) return false;
    this.flags[s]! |= FLAG_HAS_CHILDREN;
    return true;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const mask = cap - 1;
    const keys = new Uint8Array(cap * KEY);
    const types = new Uint8Array(cap);
    const flags = new Uint8Array(cap);
    const lamports = new Uint32Array(cap);
    const locs = new Float64Array(cap);
    const lens = new Uint32Array(cap);
    const old = this.keys;
    const oldWords = new Uint32Array(old.buffer, old.byteOffset, old.length >> 2);
    const newWords = new Uint32Array(keys.buffer);
    for (let i = 0; i < this.n; i++) {
      const from = this.order[i]!;
      const k = from * KEY;
      let s = ((old[k + 4]! << 24) | (old[k + 5]! << 16) | (old[k + 6]! << 8) | old[k + 7]!) & mask;
      while (types[s] !== 0) s = (s + 1) & mask;
      for (let w = 0, a = k >> 2, b = (s * KEY) >> 2; w < KEY >> 2; w++)
        newWords[b + w] = oldWords[a + w]!;
      types[s] = this.types[from]!;
      flags[s] = this.flags[from]!;
      lamports[s] = this.lamports[from]!;
      locs[s] = this.locs[from]!;
      lens[s] = this.lens[from]!;
      this.order[i] = s;
    }
    this.cap = cap;
    this.keys = keys;
    this.types = types;
    this.flags = flags;
    this.lamports = lamports;
    this.locs = locs;
    this.lens = lens;
  }

  /** Writes the i-th entry of this shard (insertion order) at `at` in the dump layout. */
  dumpEntry(i: number, out: Uint8Array, dv: DataView, at: number): void {
    const slot = this.order[i]!;
    const keys = this.keys;
    for (let k = 0, from = slot * KEY; k < KEY; k++) out[at + k] = keys[from + k]!;
    out[at + 32] = this.types[slot]!;
    out[at + 33] = this.flags[slot]!;
    dv.setUint32(at + 34, this.lamports[slot]!);
    dv.setFloat64(at + 38, this.locs[slot]!);
    dv.setUint32(at + 46, this.lens[slot]!);
  }

  /** The i-th entry of this shard in its insertion order. */
  entryAt(i: number): { key: Uint8Array; e: IndexEntry } {
    const slot = this.order[i]!;
    return { key: this.keys.subarray(slot * KEY, slot * KEY + KEY), e: this.entry(slot) };
  }
}

const SHARDS = 256;

export class NodeIndex {
  private readonly shards: IndexShard[];
  /** The shard of the i-th inserted entry. */
  private shardOf: Uint8Array;
  private n = 0;
  /** While a snapshot is being dumped: ids whose has-children flag was set after it was taken. */
  private flipped: Set<string> | undefined;

  constructor(capacity = 1024) {
    const per = Math.max(16, Math.ceil(capacity / SHARDS));
    this.shards = Array.from({ length: SHARDS }, () => new IndexShard(per));
    this.shardOf = new Uint8Array(Math.max(1024, capacity));
  }

  get size(): number {
    return this.n;
  }

  /** Bytes held by the tables and the order. */
  get memoryBytes(): number {
    let b = this.shardOf.byteLength;
    for (const s of this.shards) b += s.memoryBytes;
    return b;
  }

  has(id: Uint8Array): boolean {
    return this.shards[id[0]!]!.has(id);
  }

  get(id: Uint8Array): IndexEntry | undefined {
    return this.shards[id[0]!]!.get(id);
  }

  /** Adds a new id (the caller has checked it is absent). `typeCode` must be non-zero. */
  insert(
    id: Uint8Array,
    typeCode: number,
    lamport: number,
    loc: number,
    len: number,
    hasChildren = false,
  ): void {
    this.shards[id[0]!]!.insert(id, typeCode, lamport, loc, len, hasChildren);
    if (this.n === this.shardOf.length) {
      const next = new Uint8Array(this.shardOf.length * 2);
      next.set(this.shardOf);
      this.shardOf = next;
    }
    this.shardOf[this.n++] = id[0]!;
  }

  markHasChildren(id: Uint8Array): void {
    if (this.shards[id[0]!]!.markHasChildren(id)) this.flipped?.add(toHex(id));
  }

  /** Visits entries in insertion order. `id` is a view valid only during the call. */
  forEach(fn: (id: Uint8Array, e: IndexEntry) => void): void {
    const cursor = new Uint32Array(SHARDS);
    for (let i = 0; i < this.n; i++) {
      const sh = this.shardOf[i]!;
      const { key, e } = this.shards[sh]!.entryAt(cursor[sh]!++);
      fn(key, e);
    }
  }

  /**
   * A compact dump in insertion order: per entry 32 id bytes, type u8, flags u8, lamport u32,
   * loc f64, len u32 (50 bytes, big-endian). `load` reverses it.
   */
  dump(): Uint8Array {
    const out = new Uint8Array(this.n * DUMP_ENTRY);
    this.dumpInto(out, new Uint32Array(SHARDS), 0, this.n, undefined);
    return out;
  }

  /**
   * Writes entries `[from, to)` of the insertion order into `out` (`cursor`: each shard's next
   * entry, carried from the previous range); a flag noted in `flipped` is written unset.
   */
  private dumpInto(
    out: Uint8Array,
    cursor: Uint32Array,
    from: number,
    to: number,
    flipped: ReadonlySet<string> | undefined,
  ): void {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = from; i < to; i++) {
      const sh = this.shardOf[i]!;
      const at = i * DUMP_ENTRY;
      this.shards[sh]!.dumpEntry(cursor[sh]!++, out, dv, at);
      if (out[at + 33] !== 0 && flipped?.has(toHex(out.subarray(at, at + KEY)))) out[at + 33] = 0;
    }
  }

  /**
   * The index as it is now, to be dumped (as `dump` would now) in steps while inserts go on.
   * Entries never change once inserted, except the has-children flag: flags set after this call
   * are noted and left out. Only one snapshot may be open at a time; `dump` or `close` ends it.
   */
  snapshot(): IndexSnapshot {
    if (this.flipped !== undefined)
      throw new IndexSnapshotOpenError('an index snapshot is open already: dump or close it first');
    const flipped = new Set<string>();
    this.flipped = flipped;
    const n = this.n;
    const close = (): void => {
      if (this.flipped === flipped) this.flipped = undefined;
    };
    return {
      count: n,
      close,
      dump: async (pause) => {
        try {
          const out = new Uint8Array(n * DUMP_ENTRY);
          const cursor = new Uint32Array(SHARDS);
          for (let i = 0; i < n; i += DUMP_STEP) {
            this.dumpInto(out, cursor, i, Math.min(n, i + DUMP_STEP), flipped);
            await pause();
          }
          return out;
        } finally {
          close();
        }
      },
    };
  }

  static load(bytes: Uint8Array): NodeIndex {
    const rec = DUMP_ENTRY;
    if (bytes.length % rec !== 0)
      throw new RangeError(`index dump length ${bytes.length} is not a multiple of ${rec}`);
    const count = bytes.length / rec;
    const idx = new NodeIndex(Math.ceil((count * 10) / 7) + 1);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      const at = i * rec;
      if (bytes[at + 32] === 0) throw new RangeError(`index dump entry ${i} has no type`);
      idx.insert(
        bytes.subarray(at, at + KEY),
        bytes[at + 32]!,
        dv.getUint32(at + 34),
        dv.getFloat64(at + 38),
        dv.getUint32(at + 46),
        (bytes[at + 33]! & FLAG_HAS_CHILDREN) !== 0,
      );
    }
    return idx;
  }
}
