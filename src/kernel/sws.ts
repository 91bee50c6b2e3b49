import { blake3Hex, type CborValue, decode, encode, fromHex, toHex } from '../codec/index.js';
import type { NodeId } from '../dag/index.js';

/**
 * A Shadow Working Set (DESIGN §4): an isolated overlay on one base snapshot. The overlay maps
 * paths to what the SWS made of them; everything else reads through to the base tree.
 */
export type OverlayEntry =
  /** `resolvedAt`: set by a `resolve` against that branch head; a collapse onto it takes this as is. */
  | { readonly kind: 'blob'; readonly id: NodeId; readonly resolvedAt?: NodeId }
  | { readonly kind: 'deleted' }
  /** A path whose edits overlapped: `base` and the competing versions, until a `resolve`. */
  | {
      readonly kind: 'conflict';
      readonly base: NodeId | null;
      readonly candidates: readonly NodeId[];
    };

export type SwsState = 'ACTIVE' | 'COLLAPSED' | 'DISCARDED' | 'INVALIDATED';

/** A finding recorded on an SWS (from `jit.sws.<id>.analyze`), kept in order of admission. */
export interface Annotation {
  readonly author: string;
  readonly path: string;
  /** First and last line (1-based), or null for the whole file. */
  readonly range: readonly [number, number] | null;
  readonly severity: 'info' | 'warning' | 'error';
  readonly message: string;
}

export const SEVERITIES = ['info', 'warning', 'error'] as const;

/** The canonical CBOR value of an annotation (WAL, checkpoint and snapshot provenance). */
export function annotationValue(a: Annotation): CborValue {
  return {
    author: a.author,
    path: a.path,
    range: a.range === null ? null : [...a.range],
    severity: a.severity,
    message: a.message,
  };
}

function annotationFrom(v: CborValue): Annotation {
  const m = v as Record<string, CborValue>;
  const r = m.range as number[] | null;
  return {
    author: m.author as string,
    path: m.path as string,
    range: r === null ? null : [r[0]!, r[1]!],
    severity: m.severity as Annotation['severity'],
    message: m.message as string,
  };
}

export interface SwsHeader {
  /** 32 hex characters: 128 random bits, unguessable. */
  readonly id: string;
  readonly owner: string;
  /** Agents the owner named at creation that may also commit or discard. */
  readonly delegates: readonly string[];
  readonly baseRef: string;
  readonly baseNode: NodeId;
  readonly baseTree: NodeId;
  readonly meta: Readonly<Record<string, string>>;
}

export interface CollapseResult {
  readonly snapshot: NodeId;
  readonly rewrite: NodeId | null;
  readonly ref: string;
}

export class Sws {
  readonly header: SwsHeader;
  state: SwsState = 'ACTIVE';
  readonly overlay = new Map<string, OverlayEntry>();
  readonly patches = new Set<string>();
  readonly annotations: Annotation[] = [];
  /** Agents added with `shadow.add_member` (the owner and delegates are members already). */
  readonly members = new Set<string>();
  result: CollapseResult | undefined;
  /** For each directory, how many overlay files under it are live (a blob or a conflict). */
  private readonly liveUnder = new Map<string, number>();
  /** The ids of `patches` again, as bytes back to back in admission order (32 each). */
  private ids = new Uint8Array(32 * 16);

  constructor(header: SwsHeader) {
    this.header = header;
  }

  get id(): string {
    return this.header.id;
  }

  /**
   * Applies a patch's effects (from admission or from replay: the same code). `idBytes`: the
   * patch id's bytes, when the caller has them (else they are parsed from `patch`).
   */
  apply(
    patch: string,
    effects: readonly (readonly [string, OverlayEntry])[],
    idBytes?: Uint8Array,
  ): void {
    for (const [path, e] of effects) this.set(path, e);
    this.addPatch(patch, idBytes);
  }

  /** Records a patch id (no effect when it is there already); `idBytes` as in `apply`. */
  addPatch(patch: string, idBytes?: Uint8Array): void {
    if (this.patches.has(patch)) return;
    const bytes = idBytes ?? fromHex(patch);
    if (bytes === undefined || bytes.length !== 32)
      throw new RangeError(`patch id ${patch} is not 64 lowercase hex digits`);
    const n = this.patches.size;
    if ((n + 1) * 32 > this.ids.length) {
      // a new array: views handed out by patchIds keep the old one, which never changes again
      const next = new Uint8Array(this.ids.length * 2);
      next.set(this.ids.subarray(0, n * 32));
      this.ids = next;
    }
    this.ids.set(bytes, n * 32);
    this.patches.add(patch);
  }

  /**
   * The patch ids so far, 32 bytes each in admission order. The view never changes: later
   * patches are written after its end.
   */
  patchIds(): Uint8Array {
    return this.ids.subarray(0, this.patches.size * 32);
  }

  /** Sets one overlay entry, keeping the per-directory counts. */
  set(path: string, e: OverlayEntry): void {
    const before = this.overlay.get(path);
    const was = before !== undefined && before.kind !== 'deleted' ? 1 : 0;
    const now = e.kind !== 'deleted' ? 1 : 0;
    this.overlay.set(path, e);
    if (was === now) return;
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      const dir = path.slice(0, i);
      const n = (this.liveUnder.get(dir) ?? 0) + now - was;
      if (n === 0) this.liveUnder.delete(dir);
      else this.liveUnder.set(dir, n);
    }
  }

  /** Some live overlay file lies under `dir/`. */
  hasLiveUnder(dir: string): boolean {
    return this.liveUnder.has(dir);
  }

  /** May `agent` read and patch this SWS (owner, delegate or added member)? */
  isMember(agent: string): boolean {
    return this.mayFinish(agent) || this.members.has(agent);
  }

  /** May `agent` commit or discard this SWS? */
  mayFinish(agent: string): boolean {
    return agent === this.header.owner || this.header.delegates.includes(agent);
  }

  /**
   * A digest of everything that defines the SWS: header, state, overlay (by path) and the *set* of
   * patches. Patches with disjoint footprints give one digest in any order.
   */
  digest(): string {
    return blake3Hex(
      encode({
        id: fromHex(this.header.id)!,
        content: fromHex(this.contentDigest())!,
        ...(this.members.size > 0 ? { members: [...this.members].sort() } : {}),
      }),
    );
  }

  /** As `digest`, without the SWS's own id: equal for two SWSs that hold the same work. */
  contentDigest(): string {
    const overlay = [...this.overlay]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([p, e]) => [p, ...entryValue(e)]);
    return blake3Hex(
      encode({
        base: fromHex(this.header.baseNode)!,
        state: this.state,
        overlay,
        patches: [...this.patches].sort().map((p) => fromHex(p)!),
        ...(this.annotations.length > 0
          ? { annotations: this.annotations.map(annotationValue) }
          : {}),
      }),
    );
  }
}

function entryValue(e: OverlayEntry): CborValue[] {
  switch (e.kind) {
    case 'blob':
      return e.resolvedAt === undefined
        ? ['blob', fromHex(e.id)!]
        : ['blob', fromHex(e.id)!, fromHex(e.resolvedAt)!];
    case 'deleted':
      return ['deleted'];
    case 'conflict':
      return [
        'conflict',
        e.base === null ? null : fromHex(e.base)!,
        e.candidates.map((c) => fromHex(c)!),
      ];
  }
}

function entryFrom(v: readonly CborValue[]): OverlayEntry {
  const kind = v[0];
  if (kind === 'blob') {
    const at = v[2] as Uint8Array | undefined;
    return at === undefined
      ? { kind, id: toHex(v[1] as Uint8Array) }
      : { kind, id: toHex(v[1] as Uint8Array), resolvedAt: toHex(at) };
  }
  if (kind === 'deleted') return { kind };
  if (kind === 'conflict') {
    const base = v[1] as Uint8Array | null;
    return {
      kind,
      base: base === null ? null : toHex(base),
      candidates: (v[2] as Uint8Array[]).map(toHex),
    };
  }
  throw new RangeError(`unknown overlay entry kind ${String(kind)}`);
}

// WAL payloads of the SWS ops (docs/INTERNALS.md §5)

export function encodeSwsCreate(h: SwsHeader): Uint8Array {
  return encode({
    sws: fromHex(h.id)!,
    owner: h.owner,
    delegates: [...h.delegates],
    base_ref: h.baseRef,
    base_node: fromHex(h.baseNode)!,
    base_tree: fromHex(h.baseTree)!,
    meta: { ...h.meta },
  });
}

export function decodeSwsCreate(b: Uint8Array): SwsHeader {
  const v = decode(b) as Record<string, CborValue>;
  return {
    id: toHex(v.sws as Uint8Array),
    owner: v.owner as string,
    delegates: v.delegates as string[],
    baseRef: v.base_ref as string,
    baseNode: toHex(v.base_node as Uint8Array),
    baseTree: toHex(v.base_tree as Uint8Array),
    meta: v.meta as Record<string, string>,
  };
}

export function encodeSwsPatch(
  sws: string,
  patch: string,
  effects: readonly (readonly [string, OverlayEntry])[],
): Uint8Array {
  return encode({
    sws: fromHex(sws)!,
    patch: fromHex(patch)!,
    effects: effects.map(([p, e]) => [p, ...entryValue(e)]),
  });
}

export function decodeSwsPatch(b: Uint8Array): {
  sws: string;
  patch: string;
  effects: [string, OverlayEntry][];
} {
  const v = decode(b) as Record<string, CborValue>;
  return {
    sws: toHex(v.sws as Uint8Array),
    patch: toHex(v.patch as Uint8Array),
    effects: (v.effects as CborValue[][]).map(([p, ...rest]) => [p as string, entryFrom(rest)]),
  };
}

export function encodeSwsAnnotate(sws: string, a: Annotation): Uint8Array {
  return encode({ sws: fromHex(sws)!, annotation: annotationValue(a) });
}

export function decodeSwsAnnotate(b: Uint8Array): { sws: string; annotation: Annotation } {
  const v = decode(b) as Record<string, CborValue>;
  return { sws: toHex(v.sws as Uint8Array), annotation: annotationFrom(v.annotation!) };
}

export type DestroyReason = 'discarded' | 'invalidated';

export function encodeSwsDestroy(sws: string, reason: DestroyReason): Uint8Array {
  return encode({ sws: fromHex(sws)!, reason });
}

export function decodeSwsDestroy(b: Uint8Array): { sws: string; reason: DestroyReason } {
  const v = decode(b) as Record<string, CborValue>;
  return { sws: toHex(v.sws as Uint8Array), reason: v.reason as DestroyReason };
}

/** SWS_MEMBER: `agent` added to (or removed from) the members of `sws`. */
export function encodeSwsMember(sws: string, agent: string, add: boolean): Uint8Array {
  return encode({ sws: fromHex(sws)!, agent, add });
}

export function decodeSwsMember(b: Uint8Array): { sws: string; agent: string; add: boolean } {
  const v = decode(b) as { sws: Uint8Array; agent: string; add: boolean };
  return { sws: toHex(v.sws), agent: v.agent, add: v.add };
}

/** Table entries of SWSs that can no longer change (no longer ACTIVE): each is encoded once. */
const sealed = new WeakMap<Sws, Uint8Array>();

/**
 * The SWS table as it is now, for a checkpoint: per SWS in id order, a function that makes its
 * entry later (what can change is copied now; patch ids are counted now, since the set only grows
 * in admission order). An entry is the canonical CBOR of that SWS's map, whose `patches` is one
 * byte string of the 32-byte patch ids in admission order: the order the log applied them, so a
 * state booted from a checkpoint iterates its patches as a full replay does. A checkpoint takes
 * the table while the kernel waits, so what costs time in proportion to everything ever done is
 * kept out of this call: the entries of finished SWSs are encoded once, and patch ids are neither
 * sorted nor encoded one by one.
 */
export function captureSwsTable(swss: ReadonlyMap<string, Sws>): (() => Uint8Array)[] {
  return [...swss.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(captureEntry);
}

/** The table as one canonical CBOR array of the entries of {@link captureSwsTable}. */
export function encodeSwsTable(swss: ReadonlyMap<string, Sws>): Uint8Array {
  return encode(captureSwsTable(swss).map((make) => make()));
}

function captureEntry(s: Sws): () => Uint8Array {
  const done = sealed.get(s);
  if (done !== undefined) return () => done;
  const state = s.state;
  const overlay = [...s.overlay];
  const patches = s.patchIds();
  const annotations = s.annotations.length;
  const members = [...s.members].sort();
  const r = s.result;
  return () => {
    const bytes = encode({
      create: encodeSwsCreate(s.header),
      state,
      overlay: overlay.sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, e]) => [p, ...entryValue(e)]),
      patches,
      ...(annotations > 0
        ? { annotations: s.annotations.slice(0, annotations).map(annotationValue) }
        : {}),
      ...(members.length > 0 ? { members } : {}),
      result:
        r === undefined
          ? null
          : {
              snapshot: fromHex(r.snapshot)!,
              rewrite: r.rewrite === null ? null : fromHex(r.rewrite)!,
              ref: r.ref,
            },
    });
    if (state !== 'ACTIVE') sealed.set(s, bytes);
    return bytes;
  };
}

export function decodeSwsTable(b: Uint8Array): Map<string, Sws> {
  return swsTableFrom(decode(b) as Uint8Array[]);
}

/** The SWSs of a table's entries (see {@link captureSwsTable}). */
export function swsTableFrom(entries: readonly Uint8Array[]): Map<string, Sws> {
  const out = new Map<string, Sws>();
  for (const entry of entries) {
    const v = decode(entry) as Record<string, CborValue>;
    const s = new Sws(decodeSwsCreate(v.create as Uint8Array));
    s.state = v.state as SwsState;
    for (const [p, ...rest] of v.overlay as CborValue[][]) s.set(p as string, entryFrom(rest));
    const ids = v.patches as Uint8Array;
    if (ids.length % 32 !== 0)
      throw new RangeError(`SWS ${s.id}: patch ids of ${ids.length} bytes, not a multiple of 32`);
    for (let at = 0; at < ids.length; at += 32) {
      const id = ids.subarray(at, at + 32);
      s.addPatch(toHex(id), id);
    }
    for (const a of (v.annotations ?? []) as CborValue[]) s.annotations.push(annotationFrom(a));
    for (const m of (v.members ?? []) as string[]) s.members.add(m);
    const r = v.result as Record<string, CborValue> | null;
    if (r !== null) {
      const rw = r.rewrite as Uint8Array | null;
      s.result = {
        snapshot: toHex(r.snapshot as Uint8Array),
        rewrite: rw === null ? null : toHex(rw),
        ref: r.ref as string,
      };
    }
    out.set(s.id, s);
  }
  return out;
}
