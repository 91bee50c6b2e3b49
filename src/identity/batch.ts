import { blake3Prefixed, equalBytes, HASH_BYTES } from '../codec/index.js';
import type { Signer, Verdict, Verifier } from './signer.js';

/**
 * Batch signatures: one Ed25519 signature over the root of a Merkle tree of many messages, and
 * with each message the path that ties it to that root (docs/MESSAGE_PLANE.md, "Batch
 * signatures", has the construction and its proof sketch).
 *
 * - leaf = BLAKE3(0x00 ‖ message), node = BLAKE3(0x01 ‖ left ‖ right): the prefixes keep a leaf
 *   from ever passing for a node;
 * - a level with an odd count promotes its last node unchanged;
 * - the signature covers `"jit.batch.v1\0" ‖ u32be(count) ‖ root`, a message no per-message
 *   signature can be (those cover a CBOR map, whose first byte is 0xa0..0xbf).
 *
 * Each message so stays checkable on its own (a consumer in a group sees some of a batch, a
 * redelivery one message of it), and a verifier that keeps the nodes it has authenticated pays
 * one Ed25519 check per batch instead of per message.
 */

/** The most messages one batch signature covers (a path is then at most 12 hashes). */
export const MAX_BATCH = 4096;

const DOMAIN = new TextEncoder().encode('jit.batch.v1\u0000');

/** The leaf hash of one message, written to `out` at `at` (a new array when no `out` is given). */
export function leafHash(
  message: Uint8Array,
  out: Uint8Array = new Uint8Array(HASH_BYTES),
  at = 0,
): Uint8Array {
  return blake3Prefixed(0, message, undefined, out, at);
}

/** The bytes a batch signature covers. */
export function batchSigningBytes(count: number, root: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + 4 + HASH_BYTES);
  out.set(DOMAIN);
  new DataView(out.buffer).setUint32(DOMAIN.length, count);
  out.set(root, DOMAIN.length + 4);
  return out;
}

/** Hashes on the path of leaf `index` of `count` (levels where it is promoted have none). */
export function pathLength(index: number, count: number): number {
  let n = 0;
  for (let i = index, w = count; w > 1; i >>= 1, w = (w + 1) >> 1) if ((i ^ 1) < w) n++;
  return n;
}

/**
 * What is wrong with a proof's shape (its place, count and path length), or undefined: the
 * decoder refuses such a proof as malformed, and the verifier as a bad signature.
 */
export function proofShapeProblem(
  index: number,
  count: number,
  pathBytes: number,
): { readonly field: 'i' | 'path'; readonly message: string } | undefined {
  if (
    !Number.isSafeInteger(count) ||
    count < 1 ||
    count > MAX_BATCH ||
    !Number.isSafeInteger(index) ||
    index < 0 ||
    index >= count
  )
    return {
      field: 'i',
      message: `batch place ${index} of ${count} is impossible (1 to ${MAX_BATCH})`,
    };
  const hashes = pathLength(index, count);
  if (pathBytes !== hashes * HASH_BYTES)
    return {
      field: 'path',
      message: `batch path for place ${index} of ${count} is not ${hashes} hashes of ${HASH_BYTES} bytes`,
    };
  return undefined;
}

/** What a batch signature gives each message: its place and the path to the signed root. */
export interface BatchProof {
  readonly index: number;
  readonly count: number;
  /** The sibling hashes from the leaf up, concatenated (`pathLength(index, count)` of them). */
  readonly path: Uint8Array;
  readonly sig: Uint8Array;
}

/**
 * Where each level of a tree over `count` leaves starts, in nodes from the first leaf (leaves
 * first; a level with an odd count promotes its last node); the last entry is the node count.
 */
function levelStarts(count: number): number[] {
  const starts = [0];
  let total = 0;
  for (let w = count; ; w = (w + 1) >> 1) {
    total += w;
    starts.push(total);
    if (w === 1) return starts;
  }
}

/** Copies the 32-byte hash at `from` in `src` to `to` in `dst` (no view made). */
function copyHash(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let k = 0; k < HASH_BYTES; k++) dst[to + k] = src[from + k]!;
}

/** Whether the 32-byte hashes at `ai` in `a` and `bi` in `b` are equal (constant shape). */
function sameHash(a: Uint8Array, ai: number, b: Uint8Array, bi: number): boolean {
  let d = 0;
  for (let k = 0; k < HASH_BYTES; k++) d |= a[ai + k]! ^ b[bi + k]!;
  return d === 0;
}

/** A batch signed: its signature, and each message's path to the root on demand. */
export class SignedBatch {
  readonly count: number;
  readonly sig: Uint8Array;
  /** Every node of the tree, 32 bytes each, level after level (see `levelStarts`). */
  private readonly nodes: Uint8Array;
  private readonly starts: readonly number[];

  constructor(count: number, sig: Uint8Array, nodes: Uint8Array, starts: readonly number[]) {
    this.count = count;
    this.sig = sig;
    this.nodes = nodes;
    this.starts = starts;
  }

  /** Writes the path of message `index` into `out` at `at` (`pathLength` hashes). */
  writePath(index: number, out: Uint8Array, at: number): void {
    const starts = this.starts;
    for (let l = 0, i = index; l < starts.length - 2; l++, i >>= 1) {
      const sibling = i ^ 1;
      if (sibling >= starts[l + 1]! - starts[l]!) continue; // promoted
      copyHash(this.nodes, (starts[l]! + sibling) * HASH_BYTES, out, at);
      at += HASH_BYTES;
    }
  }

  /** The proof of message `index`. */
  proof(index: number): BatchProof {
    const path = new Uint8Array(pathLength(index, this.count) * HASH_BYTES);
    this.writePath(index, path, 0);
    return { index, count: this.count, path, sig: this.sig };
  }
}

/** Signs `messages` (1 to MAX_BATCH) with one signature. */
export function signBatch(signer: Signer, messages: readonly Uint8Array[]): SignedBatch {
  const count = messages.length;
  if (count < 1 || count > MAX_BATCH)
    throw new RangeError(`a batch holds 1 to ${MAX_BATCH} messages, not ${count}`);
  // the whole tree in one array: no small array per node for the collector to follow
  const starts = levelStarts(count);
  const nodes = new Uint8Array(starts[starts.length - 1]! * HASH_BYTES);
  for (let i = 0; i < count; i++) leafHash(messages[i]!, nodes, i * HASH_BYTES);
  for (let l = 0; l < starts.length - 2; l++) {
    const from = starts[l]!;
    const width = starts[l + 1]! - from;
    const up = starts[l + 1]!;
    for (let i = 0; i < width; i += 2) {
      const to = (up + (i >> 1)) * HASH_BYTES;
      if (i + 1 < width) {
        const left = (from + i) * HASH_BYTES;
        nodeHashAt(nodes, left, nodes, left + HASH_BYTES, nodes, to);
      } else copyHash(nodes, (from + i) * HASH_BYTES, nodes, to);
    }
  }
  const root = nodes.subarray(nodes.length - HASH_BYTES);
  return new SignedBatch(count, signer.sign(batchSigningBytes(count, root)), nodes, starts);
}

/** Two 32-byte halves hashed as a node: what `nodeHash` does, without views or a new array. */
const pair = new Uint8Array(2 * HASH_BYTES);
function nodeHashAt(
  a: Uint8Array,
  ai: number,
  b: Uint8Array,
  bi: number,
  out: Uint8Array,
  at: number,
): void {
  copyHash(a, ai, pair, 0);
  copyHash(b, bi, pair, HASH_BYTES);
  blake3Prefixed(1, pair, undefined, out, at);
}

/** What is known of one signed batch: the nodes authenticated so far. */
interface Tree {
  readonly agent: string;
  readonly sig: Uint8Array;
  readonly count: number;
  readonly starts: readonly number[];
  /** Every node's 32 bytes (see `levelStarts`), then a byte per node: 1 once it is known. */
  readonly nodes: Uint8Array;
  /** Where the known-flags start in `nodes`. */
  readonly flags: number;
}

function newTree(agent: string, sig: Uint8Array, count: number): Tree {
  const starts = levelStarts(count);
  const total = starts[starts.length - 1]!;
  return {
    agent,
    sig: sig.slice(), // not a view: it would keep the message's buffer alive
    count,
    starts,
    nodes: new Uint8Array(total * (HASH_BYTES + 1)),
    flags: total * HASH_BYTES,
  };
}

/**
 * Checks batch proofs against a Verifier, keeping what it has authenticated of recent batches: a
 * message of a batch already checked climbs from its leaf only to the first node known (its
 * sibling's leaf, most often) and compares, with no signature check; one that does not match
 * is refused without one. What is kept is dropped whenever the verifier's `revision` changes, so
 * a key removed from the trust store stops vouching for its batches at once. A batch's nodes
 * are kept in one array, and a check makes no array of its own.
 */
export class BatchVerifier {
  private readonly verifier: Verifier;
  private readonly max: number;
  /** Recent batches by signature (latin1), in two generations: forgetting costs nothing per batch. */
  private young = new Map<string, Tree>();
  private old = new Map<string, Tree>();
  private last: Tree | undefined;
  private revision: number | undefined;
  /** The hash being climbed with. */
  private readonly h = new Uint8Array(HASH_BYTES);
  /** Signature checks made, and messages passed on a batch already checked. */
  readonly stats = { signatures: 0, cached: 0 };

  /** Bytes of the trees a generation may hold before it is turned over (half the budget). */
  private readonly maxBytes: number;
  private youngBytes = 0;
  private oldBytes = 0;

  /**
   * `maxBatches` (default 128) and `maxBytes` (default 4 MiB) bound what is kept: a tree is about
   * 33 bytes a node whatever is known of it, so a sender's batches of 4,096 messages with one
   * message heard from each would otherwise hold 270 KB apiece.
   */
  constructor(verifier: Verifier, opts: { maxBatches?: number; maxBytes?: number } = {}) {
    this.verifier = verifier;
    this.max = Math.max(1, (opts.maxBatches ?? 128) >> 1);
    this.maxBytes = Math.max(1, (opts.maxBytes ?? 4 << 20) >> 1);
    this.revision = this.verifier.revision;
  }

  /** Bytes held by the batches kept now (both generations). */
  get keptBytes(): number {
    return this.youngBytes + this.oldBytes;
  }

  /** Whether `proof` ties `message` to a root `agent` signed. */
  verify(agent: string, message: Uint8Array, proof: BatchProof): Verdict {
    const { index, count, path, sig } = proof;
    if (proofShapeProblem(index, count, path.length) !== undefined) return 'bad-signature';
    if (this.verifier.revision !== this.revision) {
      this.young = new Map();
      this.old = new Map();
      this.youngBytes = 0;
      this.oldBytes = 0;
      this.last = undefined;
      this.revision = this.verifier.revision;
    }
    const tree = this.find(agent, sig, count);
    const h = leafHash(message, this.h);
    // climb from the leaf (most often itself known: it was on the path of a message checked
    // before) to the first known node, noting (level, place, hash) of what was computed or given
    this.got = 0;
    let at = 0;
    for (let l = 0, i = index, w = count; ; l++, i >>= 1, w = (w + 1) >> 1) {
      if (tree !== undefined) {
        const slot = tree.starts[l]! + i;
        if (tree.nodes[tree.flags + slot] === 1) {
          if (!sameHash(tree.nodes, slot * HASH_BYTES, h, 0)) return 'bad-signature';
          this.stats.cached++;
          this.learn(tree);
          return 'ok';
        }
      }
      this.note(l, i, h, 0);
      if (w === 1) break; // the root
      if ((i ^ 1) >= w) continue; // promoted
      this.note(l, i ^ 1, path, at);
      if (i & 1) nodeHashAt(path, at, h, 0, h, 0);
      else nodeHashAt(h, 0, path, at, h, 0);
      at += HASH_BYTES;
    }
    // a batch not seen yet (or forgotten): its root must carry the agent's signature
    this.stats.signatures++;
    const v = this.verifier.verify(agent, batchSigningBytes(count, h), sig);
    if (v !== 'ok') return v;
    const t = newTree(agent, sig, count);
    this.learn(t);
    this.young.set(latin1(sig), t);
    this.youngBytes += t.nodes.length;
    if (this.young.size >= this.max || this.youngBytes >= this.maxBytes) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.last = t;
    return 'ok';
  }

  private find(agent: string, sig: Uint8Array, count: number): Tree | undefined {
    let t = this.last;
    if (t === undefined || (t.sig !== sig && !equalBytes(t.sig, sig))) {
      const k = latin1(sig);
      t = this.young.get(k) ?? this.old.get(k);
      if (t === undefined) return undefined;
      this.last = t;
    }
    return t.agent === agent && t.count === count ? t : undefined;
  }

  /** What the climb under way computed or was given: level, place and hash (reused storage). */
  private got = 0;
  private readonly gotLevel: number[] = [];
  private readonly gotPlace: number[] = [];
  /** Room for two hashes a level (the node and its sibling) on the longest path. */
  private readonly gotHash = new Uint8Array(2 * 16 * HASH_BYTES);

  private note(level: number, place: number, src: Uint8Array, from: number): void {
    this.gotLevel[this.got] = level;
    this.gotPlace[this.got] = place;
    copyHash(src, from, this.gotHash, this.got++ * HASH_BYTES);
  }

  /** Records the climb's nodes, now known to be in `t`'s signed tree. */
  private learn(t: Tree): void {
    for (let k = 0; k < this.got; k++) {
      const slot = t.starts[this.gotLevel[k]!]! + this.gotPlace[k]!;
      copyHash(this.gotHash, k * HASH_BYTES, t.nodes, slot * HASH_BYTES);
      t.nodes[t.flags + slot] = 1;
    }
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
