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

  constructor(header: SwsHeader) {
    this.header = header;
  }

  get id(): string {
    return this.header.id;
  }

  /** Applies a patch's effects (from admission or from replay: the same code). */
  apply(patch: string, effects: readonly (readonly [string, OverlayEntry])[]): void {
    for (const [path, e] of effects) this.set(path, e);
    this.patches.add(patch);
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

/** The whole SWS table, for a checkpoint: canonical CBOR, SWSs sorted by id. */
/** SWS_MEMBER: `agent` added to (or removed from) the members of `sws`. */
export function encodeSwsMember(sws: string, agent: string, add: boolean): Uint8Array {
  return encode({ sws: fromHex(sws)!, agent, add });
}

export function decodeSwsMember(b: Uint8Array): { sws: string; agent: string; add: boolean } {
  const v = decode(b) as { sws: Uint8Array; agent: string; add: boolean };
  return { sws: toHex(v.sws), agent: v.agent, add: v.add };
}

export function encodeSwsTable(swss: ReadonlyMap<string, Sws>): Uint8Array {
  const all = [...swss.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return encode(
    all.map((s): CborValue => {
      const overlay = [...s.overlay]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([p, e]) => [p, ...entryValue(e)]);
      const r = s.result;
      return {
        create: encodeSwsCreate(s.header),
        state: s.state,
        overlay,
        patches: [...s.patches].sort().map((p) => fromHex(p)!),
        ...(s.annotations.length > 0 ? { annotations: s.annotations.map(annotationValue) } : {}),
        ...(s.members.size > 0 ? { members: [...s.members].sort() } : {}),
        result:
          r === undefined
            ? null
            : {
                snapshot: fromHex(r.snapshot)!,
                rewrite: r.rewrite === null ? null : fromHex(r.rewrite)!,
                ref: r.ref,
              },
      };
    }),
  );
}

export function decodeSwsTable(b: Uint8Array): Map<string, Sws> {
  const out = new Map<string, Sws>();
  for (const v of decode(b) as Record<string, CborValue>[]) {
    const s = new Sws(decodeSwsCreate(v.create as Uint8Array));
    s.state = v.state as SwsState;
    for (const [p, ...rest] of v.overlay as CborValue[][]) s.set(p as string, entryFrom(rest));
    for (const p of v.patches as Uint8Array[]) s.patches.add(toHex(p));
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
