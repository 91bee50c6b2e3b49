import { randomBytes } from 'node:crypto';
import {
  blake3,
  blake3Hex,
  type CborValue,
  decode,
  encode,
  encodeHead,
  fromHex,
  toHex,
} from '../codec/index.js';
import { encodeNode, type JitNode, makeNode, type NodeId, nodeId, ROOT_ID } from '../dag/index.js';
import { describeValue, JitError } from '../errors/index.js';
import type { Signer } from '../identity/index.js';
import {
  type AclRule,
  canonicalRules,
  decodeRules,
  encodeRules,
  Policy,
  ruleText,
} from '../policy/index.js';
import {
  type CheckpointExtension,
  decodeRefUpdate,
  type KnownNode,
  type OpenOptions,
  type Ref,
  RefConflictError,
  RefNotFoundError,
  type RefUpdate,
  replayReadOnly,
  Store,
  type Tx,
} from '../store/index.js';
import { WalOp, type WalRecord } from '../wal/index.js';
import {
  AUDIT_REF,
  type AuditEntry,
  auditEntryOf,
  auditPayload,
  auditSigningBytes,
  checkAuditEvent,
  nextAuditEntry,
  RESERVED_REF_PREFIX,
} from './audit.js';
import { type CollapsePlan, type Conflict, planCollapse, treeOf } from './collapse.js';
import { patchEffects, SwsView } from './effects.js';
import {
  AccessDeniedError,
  AuditChainError,
  CollapseConflictError,
  KernelClosedError,
  PatchInputError,
  SwsNotFoundError,
  SwsStateError,
} from './errors.js';
import { decodePatch } from './patch.js';
import { pathSegments } from './path.js';
import {
  type Annotation,
  annotationValue,
  type CollapseResult,
  captureSwsTable,
  decodeSwsAnnotate,
  decodeSwsCreate,
  decodeSwsDestroy,
  decodeSwsMember,
  decodeSwsPatch,
  encodeSwsAnnotate,
  encodeSwsCreate,
  encodeSwsDestroy,
  encodeSwsMember,
  encodeSwsPatch,
  SEVERITIES,
  Sws,
  type SwsHeader,
  swsTableFrom,
} from './sws.js';
import { EMPTY_TREE, EMPTY_TREE_ID, listFiles, type Nodes } from './tree.js';

/** The most audit entries one `audit.log` answers. */
export const MAX_AUDIT_PAGE = 10_000;

export interface CreateRequest {
  readonly ref: string;
  readonly owner: string;
  readonly delegates?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
}

export interface CommitResult extends CollapseResult {
  /** False when the SWS was already collapsed and this is the first result again. */
  readonly updated: boolean;
}

export interface Change {
  readonly path: string;
  readonly change: 'added' | 'modified' | 'deleted' | 'conflict';
  readonly from: NodeId | null;
  readonly to: NodeId | null;
}

const SWS_ID = /^[0-9a-f]{32}$/;

function agentName(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) {
    throw new PatchInputError(
      `${field} ${describeValue(v)} must be an agent id of 1 to 256 characters`,
    );
  }
  return v;
}

/**
 * The kernel (DESIGN §4): shadow working sets over the durable store. JavaScript's event loop is
 * its single writer: every command checks itself and admits its records synchronously, in call
 * order, through one store transaction; its answer is delivered once those records (and all
 * admitted before) are durable, so no answer ever rests on state a crash could lose. A failed sync
 * stops the kernel: it must be restarted, and replay rebuilds exactly what was durable.
 */
export class Kernel {
  readonly store: Store;
  /** The ACL: its rules are kernel state (ACL_SET records), its memberships the SWSs'. */
  readonly policy: Policy;
  private readonly swss: Map<string, Sws>;
  /**
   * Signs each new audit entry's digest (jitd sets it to the kernel key), so an exported trail
   * proves where it came from. Ed25519 is deterministic: a replay rebuilds the same nodes.
   */
  auditSigner: Signer | undefined;
  /** Nodes admitted but not yet durable, readable by later commands. */
  private readonly inflight = new Map<NodeId, JitNode>();
  private closed = false;

  private constructor(store: Store, state: KernelState) {
    this.store = store;
    this.swss = state.swss;
    this.policy = new Policy(
      (sws, agent) => this.swss.get(sws)?.isMember(agent) ?? false,
      state.acl,
    );
  }

  static async open(dir: string, opts: Omit<OpenOptions, 'onRecord'> = {}): Promise<Kernel> {
    const state: KernelState = { swss: new Map(), acl: [] };
    const store = await Store.open(dir, {
      ...opts,
      // a checkpoint carries the SWS table and the ACL as they were at its offset; the records
      // after it follow
      onCheckpoint: (ext) => restoreExtension(state, ext),
      onRecord: (rec) => replay(state, rec),
    });
    const k = new Kernel(store, state);
    store.checkpointExtension = () => captureExtension(state.swss, k.policy.list);
    if (store.refs().length === 0 && store.reader.size === 1) await k.init();
    return k;
  }

  /** The DAG plus nodes in flight. */
  private readonly nodes: Nodes = {
    get: (id) => this.inflight.get(id) ?? this.store.reader.get(id),
    has: (id) => this.inflight.has(id) || this.store.reader.has(id),
  };

  /**
   * Runs one command: `build` checks and admits synchronously; the promise settles once the
   * command's records, and everything admitted before them, are durable. Refusals also wait, so
   * an answer never reflects a state that a failed sync could undo.
   */
  private run<T>(
    build: (tx: Tx, put: (nodes: readonly (JitNode | KnownNode)[]) => NodeId[]) => T,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new KernelClosedError('the kernel is closed'));
    const added: NodeId[] = [];
    let admitted: { result: T; durable: Promise<void> };
    try {
      admitted = this.store.transact((tx) => {
        /** Puts nodes (or nodes already encoded and hashed) and keeps them readable while in flight. */
        const put = (items: readonly (JitNode | KnownNode)[]): NodeId[] => {
          const known = items.map((x): KnownNode => {
            if ('bytes' in x) return x;
            const bytes = encodeNode(x);
            return { node: x, bytes, idBytes: blake3(bytes) };
          });
          const ids = tx.putKnown(known);
          known.forEach((k, i) => {
            const id = ids[i]!;
            // registering a node that is already durable is harmless: it leaves on settle
            if (!this.inflight.has(id)) {
              this.inflight.set(id, k.node);
              added.push(id);
            }
          });
          return ids;
        };
        try {
          return build(tx, put);
        } catch (e) {
          for (const id of added) this.inflight.delete(id);
          throw e;
        }
      });
    } catch (e) {
      return this.store
        .transact(() => undefined)
        .durable.then(() => {
          throw e;
        });
    }
    const settle = (): void => {
      for (const id of added) this.inflight.delete(id);
    };
    return admitted.durable.then(
      () => {
        settle();
        return admitted.result;
      },
      (e: unknown) => {
        settle();
        this.closed = true;
        throw new KernelClosedError(
          'the log failed; restart the kernel to recover by replay',
          {},
          { cause: e },
        );
      },
    );
  }

  /** A fresh store gets one empty snapshot and the branch `main` on it. */
  private init(): Promise<void> {
    return this.run((tx, put) => {
      const snap = makeNode(
        'snapshot',
        [ROOT_ID],
        {
          tree: fromHex(EMPTY_TREE_ID)!,
          message: 'initial',
          author: 'jit',
          sws: null,
          patches: [],
        },
        () => 0,
      );
      put([EMPTY_TREE, snap]);
      tx.setRef({ name: 'main', kind: 'branch', target: nodeId(snap) });
    });
  }

  private sws(id: unknown): Sws {
    if (typeof id !== 'string' || !SWS_ID.test(id))
      throw new SwsNotFoundError(`no SWS ${describeValue(id)}: ids are 32 hex characters`);
    const s = this.swss.get(id);
    if (s === undefined) throw new SwsNotFoundError(`no SWS ${id}`, { sws: id });
    return s;
  }

  private active(id: unknown): Sws {
    const s = this.sws(id);
    if (s.state !== 'ACTIVE')
      throw new SwsStateError(`SWS ${s.id} is ${s.state}; it accepts nothing more`, {
        sws: s.id,
        state: s.state,
      });
    return s;
  }

  /** shadow.create: a new SWS on the current head of branch `ref`. */
  create(req: CreateRequest): Promise<{ id: string; base_node: NodeId }> {
    return this.run((tx) => {
      const owner = agentName(req.owner, 'owner');
      const delegates = (req.delegates ?? []).map((d, i) => agentName(d, `delegates[${i}]`));
      const meta: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.meta ?? {})) {
        if (typeof v !== 'string') throw new PatchInputError(`meta.${k} must be text`);
        meta[k] = v;
      }
      const ref = tx.ref(req.ref);
      if (ref === undefined || ref.kind !== 'branch' || ref.name.startsWith(RESERVED_REF_PREFIX))
        throw new RefNotFoundError(`no branch named ${describeValue(req.ref)}`, {
          ref: String(req.ref),
        });
      const header: SwsHeader = {
        id: randomBytes(16).toString('hex'),
        owner,
        delegates,
        baseRef: ref.name,
        baseNode: ref.target,
        baseTree: treeOf(this.nodes, ref.target),
        meta,
      };
      tx.record(WalOp.SWS_CREATE, encodeSwsCreate(header));
      this.swss.set(header.id, new Sws(header));
      return { id: header.id, base_node: header.baseNode };
    });
  }

  /** shadow.apply_patch: atomic; a patch id already applied is a no-op answering updated:false. */
  applyPatch(
    id: string,
    patch: CborValue | undefined,
  ): Promise<{ updated: boolean; patch_id: string }> {
    return this.run((tx, put) => {
      const p = decodePatch(patch);
      const s = this.active(id);
      // the received value is canonical once decodePatch accepted it (unknown keys are refused),
      // so its encoding is the patch's: no need to rebuild the patch to hash it. Encoded whole and
      // hashed at once: a streamed hash (a WASM call per piece) cost ~25% more for a 1 KiB put
      const pidBytes = blake3(encode(patch as CborValue));
      const pid = toHex(pidBytes);
      if (s.patches.has(pid)) return { updated: false, patch_id: pid };
      const head = tx.ref(s.header.baseRef)?.target ?? s.header.baseNode;
      const { effects, blobs } = patchEffects(this.nodes, s, p, head);
      if (blobs.length > 0) put(blobs);
      tx.record(WalOp.SWS_PATCH, encodeSwsPatch(s.id, pid, effects));
      s.apply(pid, effects, pidBytes);
      return { updated: true, patch_id: pid };
    });
  }

  /** shadow.read: what `path` is in the SWS's view. */
  read(
    id: string,
    path: string,
  ): Promise<{
    kind: 'file' | 'dir' | 'missing' | 'conflict';
    blob: NodeId | null;
    content: Uint8Array | null;
    candidates?: NodeId[];
  }> {
    return this.run(() => {
      pathSegments(path);
      const view = new SwsView(this.nodes, this.sws(id));
      const e = view.get(path);
      if (e === undefined) return { kind: 'missing' as const, blob: null, content: null };
      if (e.kind === 'tree') return { kind: 'dir' as const, blob: null, content: null };
      if (e.kind === 'conflict')
        return {
          kind: 'conflict' as const,
          blob: null,
          content: null,
          candidates: [...e.candidates],
        };
      return { kind: 'file' as const, blob: e.id, content: view.content(e.id) };
    });
  }

  /** shadow.files: every file in the SWS's view, path → blob id, in path order. */
  files(id: string): Promise<Map<string, NodeId>> {
    return this.run(() => {
      const s = this.sws(id);
      const out = listFiles(this.nodes, s.header.baseTree);
      for (const [path, e] of s.overlay) {
        if (e.kind === 'blob') out.set(path, e.id);
        else out.delete(path);
      }
      return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
    });
  }

  /** shadow.diff: the SWS's changes against its base, by path. */
  diff(id: string): Promise<Change[]> {
    return this.run(() => this.changes(this.sws(id)));
  }

  private changes(s: Sws): Change[] {
    const base = listFiles(this.nodes, s.header.baseTree);
    const out: Change[] = [];
    for (const [path, e] of [...s.overlay].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const from = base.get(path) ?? null;
      if (e.kind === 'conflict') out.push({ path, change: 'conflict', from, to: null });
      else if (e.kind === 'deleted') {
        if (from !== null) out.push({ path, change: 'deleted', from, to: null });
      } else if (from === null) out.push({ path, change: 'added', from, to: e.id });
      else if (from !== e.id) out.push({ path, change: 'modified', from, to: e.id });
    }
    return out;
  }

  /** shadow.status */
  status(id: string): Promise<Record<string, CborValue>> {
    return this.run(() => this.describe(this.sws(id)));
  }

  /**
   * What `shadow.status` answers. `digests: false` leaves out `digest` and `content_digest`, which
   * cost time in proportion to the SWS's patches (every patch id, sorted and hashed): `shadow.list`
   * answers without them, so that a page polling the list does not stall the kernel.
   */
  private describe(s: Sws, digests = true): Record<string, CborValue> {
    const h = s.header;
    const conflicts = [...s.overlay]
      .filter(([, e]) => e.kind === 'conflict')
      .map(([p]) => p)
      .sort();
    return {
      id: h.id,
      state: s.state,
      owner: h.owner,
      delegates: [...h.delegates],
      members: [...s.members].sort(),
      base_ref: h.baseRef,
      base_node: h.baseNode,
      patches: s.patches.size,
      changed: s.overlay.size,
      conflicts,
      annotations: s.annotations.map(annotationValue),
      ...(digests ? { digest: s.digest(), content_digest: s.contentDigest() } : {}),
      result:
        s.result === undefined
          ? null
          : { snapshot: s.result.snapshot, rewrite: s.result.rewrite, ref: s.result.ref },
    };
  }

  /**
   * shadow.list: every SWS the kernel knows (or those `visible` keeps), by id, as `shadow.status`
   * describes it less its digests (ask `shadow.status` for those).
   */
  list(visible?: (id: string) => boolean): Promise<Record<string, CborValue>[]> {
    return this.run(() =>
      [...this.swss.values()]
        .filter((s) => visible === undefined || visible(s.id))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((s) => this.describe(s, false)),
    );
  }

  /** Is `agent` the owner, a delegate or an added member of SWS `id` (false: no such SWS)? */
  isMember(id: string, agent: string): boolean {
    return this.swss.get(id)?.isMember(agent) ?? false;
  }

  /**
   * shadow.add_member / remove_member: lets `agent` read and patch the SWS (or no longer). Only
   * the owner or a delegate (`by`), or an administrator (`by` null). Idempotent: answers
   * `updated:false` when nothing changes. The owner and delegates are members by creation.
   */
  setMember(
    id: string,
    agent: string,
    add: boolean,
    by: string | null,
  ): Promise<{ members: string[]; updated: boolean }> {
    return this.run((tx) => {
      const s = this.sws(id);
      const who = agentName(agent, 'member');
      if (by !== null && !s.mayFinish(agentName(by, 'agent')))
        throw new AccessDeniedError(
          `only the owner or a delegate of SWS ${s.id} may change its members`,
          { sws: s.id },
        );
      if (s.state !== 'ACTIVE')
        throw new SwsStateError(`SWS ${s.id} is ${s.state}`, { sws: s.id, state: s.state });
      if (!add && s.mayFinish(who))
        throw new PatchInputError(
          `${who} is the owner or a delegate of SWS ${s.id}, which cannot be removed`,
          { sws: s.id },
        );
      const members = (): string[] => [...s.members].sort();
      if (s.members.has(who) === add || (add && s.mayFinish(who)))
        return { members: members(), updated: false };
      tx.record(WalOp.SWS_MEMBER, encodeSwsMember(s.id, who, add));
      if (add) s.members.add(who);
      else s.members.delete(who);
      return { members: members(), updated: true };
    });
  }

  /**
   * acl.set: replaces the ACL's rules (checked and made canonical first; bad rules change
   * nothing). Logged as one ACL_SET record; answers `updated:false` when the rules are the same.
   */
  setAcl(rules: readonly AclRule[]): Promise<{ rules: AclRule[]; updated: boolean }> {
    return this.run((tx) => {
      const next = canonicalRules(rules);
      const same =
        next.length === this.policy.list.length &&
        next.every((r, i) => ruleText(r) === ruleText(this.policy.list[i]!));
      if (same) return { rules: next, updated: false };
      tx.record(WalOp.ACL_SET, encodeRules(next));
      this.policy.setRules(next);
      return { rules: next, updated: true };
    });
  }

  /**
   * shadow.annotate: records a finding on an ACTIVE SWS (shown by `status`, carried into the
   * snapshot's provenance on collapse). Anyone may annotate; the author is recorded.
   */
  annotate(id: string, a: Annotation): Promise<{ annotations: number }> {
    return this.run((tx) => {
      const s = this.active(id);
      const author = agentName(a.author, 'author');
      pathSegments(a.path);
      if (!SEVERITIES.includes(a.severity))
        throw new PatchInputError(
          `severity ${describeValue(a.severity)} is not one of ${SEVERITIES.join(', ')}`,
        );
      if (typeof a.message !== 'string' || a.message.length === 0 || a.message.length > 4096)
        throw new PatchInputError('a finding message is text of 1 to 4096 characters');
      const r = a.range;
      if (
        r !== null &&
        (!Array.isArray(r) ||
          r.length !== 2 ||
          !r.every((x) => Number.isInteger(x) && x >= 1) ||
          r[0]! > r[1]!)
      )
        throw new PatchInputError('a finding range is null or [first, last] lines, 1-based');
      if (s.annotations.length >= 10_000)
        throw new PatchInputError(`SWS ${s.id} already holds 10000 findings`, { sws: s.id });
      const clean: Annotation = {
        author,
        path: a.path,
        range: r === null ? null : [r[0]!, r[1]!],
        severity: a.severity,
        message: a.message,
      };
      tx.record(WalOp.SWS_ANNOTATE, encodeSwsAnnotate(s.id, clean));
      s.annotations.push(clean);
      return { annotations: s.annotations.length };
    });
  }

  /** shadow.discard: idempotent; only the owner or a delegate. */
  discard(id: string, agent: string): Promise<{ state: string }> {
    return this.run((tx) => {
      const s = this.sws(id);
      if (!s.mayFinish(agentName(agent, 'agent')))
        throw new AccessDeniedError(`only the owner or a delegate of SWS ${s.id} may discard it`, {
          sws: s.id,
        });
      if (s.state === 'DISCARDED') return { state: s.state };
      if (s.state !== 'ACTIVE')
        throw new SwsStateError(`SWS ${s.id} is ${s.state}`, { sws: s.id, state: s.state });
      tx.record(WalOp.SWS_DESTROY, encodeSwsDestroy(s.id, 'discarded'));
      s.state = 'DISCARDED';
      return { state: s.state };
    });
  }

  private plan(
    tx: Tx,
    s: Sws,
    agent: string,
    message: string | undefined,
  ): CollapsePlan & { head: NodeId } {
    const head = tx.ref(s.header.baseRef)?.target;
    if (head === undefined)
      throw new SwsStateError(`branch ${s.header.baseRef} of SWS ${s.id} no longer exists`, {
        sws: s.id,
      });
    return { ...planCollapse(this.nodes, s, head, agent, message ?? `collapse of ${s.id}`), head };
  }

  /**
   * shadow.commit / collapse.commit: collapses the SWS into one snapshot (plus a rewrite node when
   * its branch moved and a merge happened), then moves the branch in the same last record that
   * marks the SWS COLLAPSED. On conflicts it fails with the list and leaves the SWS ACTIVE.
   * Repeating a commit answers the first result.
   */
  commit(id: string, agent: string, message?: string): Promise<CommitResult> {
    return this.run((tx, put) => {
      const s = this.sws(id);
      const who = agentName(agent, 'agent');
      if (!s.mayFinish(who))
        throw new AccessDeniedError(`only the owner or a delegate of SWS ${s.id} may commit it`, {
          sws: s.id,
        });
      if (s.state === 'COLLAPSED' && s.result !== undefined) return { ...s.result, updated: false };
      if (s.state !== 'ACTIVE')
        throw new SwsStateError(`SWS ${s.id} is ${s.state}`, { sws: s.id, state: s.state });
      if (message !== undefined && (typeof message !== 'string' || message.length > 64 * 1024)) {
        throw new PatchInputError('message must be text of at most 64 KiB');
      }
      const plan = this.plan(tx, s, who, message);
      if (plan.conflicts.length > 0) throw new CollapseConflictError(plan.conflicts);
      put(plan.nodes);
      tx.setRef(
        { name: s.header.baseRef, kind: 'branch', target: plan.snapshot, expect: plan.head },
        { sws: fromHex(s.id)!, rewrite: plan.rewrite },
      );
      s.state = 'COLLAPSED';
      s.result = { snapshot: plan.snapshot, rewrite: plan.rewrite, ref: s.header.baseRef };
      return { ...s.result, updated: true };
    });
  }

  /** collapse.validate: the commit's answer as a dry run, writing nothing. */
  validate(
    id: string,
    agent: string,
  ): Promise<{ ok: boolean; merge: boolean; conflicts: Conflict[]; errors: string[] }> {
    return this.run((tx) => {
      const s = this.active(id);
      const plan = this.plan(tx, s, agentName(agent, 'agent'), undefined);
      const errors = s.mayFinish(agent)
        ? []
        : [`${agent} is neither owner nor delegate of SWS ${s.id}`];
      return {
        ok: plan.conflicts.length === 0 && errors.length === 0,
        merge: plan.merged,
        conflicts: plan.conflicts,
        errors: [...errors, ...plan.conflicts.map((c) => `${c.path}: ${c.kind}`)],
      };
    });
  }

  /**
   * ref.set / create_branch / create_tag / delete, with RFC-0010's rules on top of the store's:
   * a branch moves only forward (the new target descends from the old) unless `force`.
   */
  setRef(u: RefUpdate & { force?: boolean }): Promise<Ref | null> {
    return this.run((tx) => this.updateRef(tx, u).ref);
  }

  /**
   * ref.delete: removes branch `name` (the ref rules refuse it for a tag). It leaves the ACTIVE SWSs based
   * on it nothing to collapse into: each is INVALIDATED in the same transaction (an SWS_DESTROY
   * record each, in id order), so they refuse patches and commits from then on instead of failing
   * at collapse. A branch made again with the same name does not bring them back (terminal states
   * never do). Answers the ids invalidated.
   */
  deleteRef(name: string): Promise<{ invalidated: string[] }> {
    return this.run((tx) => {
      const kind = tx.ref(name)?.kind ?? 'branch';
      return { invalidated: this.updateRef(tx, { name, kind, target: null }).invalidated };
    });
  }

  private updateRef(
    tx: Tx,
    u: RefUpdate & { force?: boolean },
  ): { ref: Ref | null; invalidated: string[] } {
    if (typeof u.name === 'string' && u.name.startsWith(RESERVED_REF_PREFIX))
      throw new RefConflictError(
        `${u.name} is the kernel's own ref (${RESERVED_REF_PREFIX}…): ${u.name === AUDIT_REF ? 'only audit.append moves it' : 'no client sets it'}`,
        { ref: u.name },
      );
    const cur = tx.ref(u.name);
    if (u.target !== null && cur?.kind === 'branch' && u.kind === 'branch' && u.force !== true) {
      if (!this.store.reader.has(u.target) || !this.store.reader.isAncestor(cur.target, u.target)) {
        throw new RefConflictError(
          `moving ${u.name} to ${u.target} is not a fast-forward from ${cur.target}; pass force to rewind`,
          { ref: u.name },
        );
      }
    }
    const { force: _force, ...update } = u;
    const ref = tx.setRef(update);
    const invalidated: string[] = [];
    if (u.target === null && cur?.kind === 'branch') {
      for (const s of this.swss.values())
        if (s.state === 'ACTIVE' && s.header.baseRef === cur.name) invalidated.push(s.id);
      invalidated.sort();
      for (const id of invalidated) {
        tx.record(WalOp.SWS_DESTROY, encodeSwsDestroy(id, 'invalidated'));
        this.swss.get(id)!.state = 'INVALIDATED';
      }
    }
    return { ref, invalidated };
  }

  /**
   * audit.append: the next entry of the audit trail, as a provenance node whose parent is the
   * previous entry (the first's, the root), with `jit/audit` moved onto it in the same
   * transaction. `by` is the caller the RPC guard authenticated. A bad event changes nothing.
   */
  appendAudit(event: unknown, by: string): Promise<{ seq: number; digest: string; node: NodeId }> {
    return this.run((tx, put) => {
      const who = agentName(by, 'by');
      const ev = checkAuditEvent(event);
      const head = tx.ref(AUDIT_REF);
      const prev = head === undefined ? undefined : this.auditEntryAt(head.target);
      const unsigned = nextAuditEntry(prev, who, ev);
      const signer = this.auditSigner;
      const entry =
        signer === undefined
          ? unsigned
          : {
              ...unsigned,
              signer: signer.agent,
              sig: toHex(signer.sign(auditSigningBytes(unsigned.digest))),
            };
      const node = makeNode(
        'provenance',
        [head?.target ?? ROOT_ID],
        auditPayload(entry),
        (id) => this.nodes.get(id).meta.lamport,
      );
      const [id] = put([node]);
      tx.setRef({ name: AUDIT_REF, kind: 'branch', target: id!, expect: head?.target ?? null });
      return { seq: entry.seq, digest: entry.digest, node: id! };
    });
  }

  private auditEntryAt(id: NodeId): AuditEntry {
    const n = this.nodes.get(id);
    const e = n.type === 'provenance' ? auditEntryOf(n.payload) : undefined;
    if (e === undefined)
      throw new AuditChainError(`${AUDIT_REF} points at ${id}, which holds no audit entry`, {
        node: id,
      });
    return e;
  }

  /** The newest audit entry (durable), or null before the first. */
  auditHead(): { seq: number; digest: string; node: NodeId } | null {
    const head = this.store.getRef(AUDIT_REF);
    if (head === undefined) return null;
    const e = this.auditEntryAt(head.target);
    return { seq: e.seq, digest: e.digest, node: head.target };
  }

  /**
   * audit.log: entries `from` (default 0) onwards, oldest first, at most `limit` (default and
   * most 10,000), each with its node id; walks back from the head.
   */
  auditLog(o: { from?: number; limit?: number } = {}): {
    entries: (AuditEntry & { node: NodeId })[];
    head: { seq: number; digest: string; node: NodeId } | null;
  } {
    const from = o.from ?? 0;
    const limit = Math.min(o.limit ?? MAX_AUDIT_PAGE, MAX_AUDIT_PAGE);
    const head = this.auditHead();
    const out: (AuditEntry & { node: NodeId })[] = [];
    let id: NodeId | undefined = head?.node;
    while (id !== undefined && id !== ROOT_ID) {
      const e = this.auditEntryAt(id);
      if (e.seq < from) break;
      if (e.seq < from + limit) out.push({ ...e, node: id });
      id = this.store.reader.get(id).parents[0];
    }
    return { entries: out.reverse(), head };
  }

  /** SWSs open (ACTIVE) and known: a count, cheap at any size (metrics, `jit.info`). */
  swsCounts(): { active: number; total: number } {
    return countSws(this.swss);
  }

  /**
   * Counts and the digest of every SWS (and the ACL): the digest costs time in proportion to all
   * SWS state (every overlay entry and patch id), so it is for fsck and tests, not for polling.
   */
  swsSummary(): { active: number; total: number; digest: string } {
    return summarize({ swss: this.swss, acl: this.policy.list });
  }

  /**
   * fsck: the log verifies to its end, and replaying it from empty (read-only, every invariant
   * checked) gives this kernel's store and SWS digests, compared at the log offset where they
   * were taken.
   */
  async fsck(
    opts: { onProgress?: (offset: number, size: number) => void; signal?: AbortSignal } = {},
  ): Promise<FsckReport> {
    // take both digests at a quiet point: SWS state moves at admission, the store's on durability
    let live: { store: string; sws: string; end: number } | undefined;
    for (let tries = 0; live === undefined; tries++) {
      await this.run(() => undefined);
      if (this.store.idle || tries > 100)
        live = {
          store: this.store.digest(),
          sws: this.swsSummary().digest,
          end: this.store.walBytes,
        };
    }
    const replayed = await Kernel.replayDigests(this.store.dir, { ...opts, to: live.end });
    return fsckReport(live, replayed);
  }

  /** Store and SWS digests rebuilt from a data directory's log, read-only, without a lock. */
  static async replayDigests(
    dir: string,
    opts: {
      to?: number;
      onProgress?: (offset: number, size: number) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<ReplayDigests> {
    const state: KernelState = { swss: new Map(), acl: [] };
    try {
      const r = await replayReadOnly(dir, { ...opts, onRecord: (rec) => replay(state, rec) });
      return {
        store: r.digest,
        sws: summarize(state).digest,
        records: r.records,
        end: r.end,
        tail: r.tail.kind,
        error: null,
      };
    } catch (e) {
      if (!(e instanceof JitError)) throw e;
      return { store: '', sws: '', records: 0, end: 0, tail: 'corrupt', error: e.message };
    }
  }

  /** Stops taking commands, waits for what was admitted, closes the store. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.store.close();
  }
}

/** What a read-only replay of a data directory rebuilds, as digests. */
export interface ReplayDigests {
  readonly store: string;
  readonly sws: string;
  readonly records: number;
  readonly end: number;
  /** clean, torn or corrupt */
  readonly tail: string;
  /** Why the replay stopped, or null. */
  readonly error: string | null;
}

export interface FsckReport {
  readonly ok: boolean;
  readonly records: number;
  readonly checks: readonly { name: string; ok: boolean; detail: string }[];
}

function fsckReport(
  live: { store: string; sws: string; end: number },
  r: ReplayDigests,
): FsckReport {
  const checks = [
    {
      name: 'log checksums',
      ok: r.error === null && r.tail === 'clean',
      detail: r.error ?? `${r.records} records verify up to offset ${r.end} (${r.tail})`,
    },
    {
      name: 'invariants',
      ok: r.error === null,
      detail: r.error ?? 'every node and ref update passes the live checks on replay',
    },
    {
      name: 'replay equality: DAG and refs',
      ok: r.store === live.store,
      detail: `live ${live.store}, replayed ${r.store || '-'}`,
    },
    {
      name: 'replay equality: working sets',
      ok: r.sws === live.sws,
      detail: `live ${live.sws}, replayed ${r.sws || '-'}`,
    },
  ];
  return { ok: checks.every((c) => c.ok), records: r.records, checks };
}

/** What the kernel keeps beside the store: the SWSs and the ACL's rules. */
interface KernelState {
  readonly swss: Map<string, Sws>;
  acl: readonly AclRule[];
}

/**
 * The checkpoint extension, taken now and made later: the canonical CBOR array
 * `[ACL_SET payload or null, [SWS table entry…]]` (see `captureSwsTable`), made as pieces with a
 * pause after each SWS.
 */
function captureExtension(
  swss: ReadonlyMap<string, Sws>,
  acl: readonly AclRule[],
): CheckpointExtension {
  const entries = captureSwsTable(swss);
  const rules = acl.length === 0 ? null : encodeRules(acl);
  return async (pause) => {
    const pieces = [encodeHead(4, 2), encode(rules), encodeHead(4, entries.length)];
    for (const make of entries) {
      const e = make();
      pieces.push(encodeHead(2, e.length), e);
      await pause();
    }
    return pieces;
  };
}

function restoreExtension(state: KernelState, ext: Uint8Array | null): void {
  state.swss.clear();
  state.acl = [];
  if (ext === null) return;
  const [rules, entries] = decode(ext) as [Uint8Array | null, Uint8Array[]];
  for (const [id, s] of swsTableFrom(entries)) state.swss.set(id, s);
  if (rules !== null) state.acl = decodeRules(rules);
}

function summarize(state: { swss: ReadonlyMap<string, Sws>; acl: readonly AclRule[] }): {
  active: number;
  total: number;
  digest: string;
} {
  const all = [...state.swss.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const lines = all.map((s) => `${s.id}:${s.digest()}`);
  // the ACL counts once it has rules (so digests of stores without one did not change)
  if (state.acl.length > 0) lines.push(`acl:${blake3Hex(encodeRules(state.acl))}`);
  const d = lines.join('\n');
  return { ...countSws(state.swss), digest: blake3Hex(new TextEncoder().encode(d)) };
}

/** SWSs open (ACTIVE) and known. */
function countSws(swss: ReadonlyMap<string, Sws>): { active: number; total: number } {
  let active = 0;
  for (const s of swss.values()) if (s.state === 'ACTIVE') active++;
  return { active, total: swss.size };
}

/** Rebuilds SWS state from the log, record by record (the same transitions as admission). */
function replay(state: KernelState, rec: WalRecord): void {
  const swss = state.swss;
  switch (rec.op) {
    case WalOp.SWS_CREATE: {
      const h = decodeSwsCreate(rec.payload);
      swss.set(h.id, new Sws(h));
      return;
    }
    case WalOp.SWS_PATCH: {
      const p = decodeSwsPatch(rec.payload);
      const s = swss.get(p.sws);
      if (s === undefined) throw new SwsNotFoundError(`SWS_PATCH for unknown SWS ${p.sws}`);
      s.apply(p.patch, p.effects);
      return;
    }
    case WalOp.SWS_DESTROY: {
      const d = decodeSwsDestroy(rec.payload);
      const s = swss.get(d.sws);
      if (s === undefined) throw new SwsNotFoundError(`SWS_DESTROY for unknown SWS ${d.sws}`);
      s.state = d.reason === 'discarded' ? 'DISCARDED' : 'INVALIDATED';
      return;
    }
    case WalOp.SWS_ANNOTATE: {
      const a = decodeSwsAnnotate(rec.payload);
      const s = swss.get(a.sws);
      if (s === undefined) throw new SwsNotFoundError(`SWS_ANNOTATE for unknown SWS ${a.sws}`);
      s.annotations.push(a.annotation);
      return;
    }
    case WalOp.SWS_MEMBER: {
      const m = decodeSwsMember(rec.payload);
      const s = swss.get(m.sws);
      if (s === undefined) throw new SwsNotFoundError(`SWS_MEMBER for unknown SWS ${m.sws}`);
      if (m.add) s.members.add(m.agent);
      else s.members.delete(m.agent);
      return;
    }
    case WalOp.ACL_SET:
      state.acl = decodeRules(rec.payload);
      return;
    case WalOp.SET_REF: {
      const u = decodeRefUpdate(rec.payload);
      if (u.link === undefined || u.target === null) return;
      const id = Buffer.from(u.link.sws).toString('hex');
      const s = swss.get(id);
      if (s === undefined) throw new SwsNotFoundError(`collapse of unknown SWS ${id}`);
      s.state = 'COLLAPSED';
      s.result = { snapshot: u.target, rewrite: u.link.rewrite, ref: u.name };
      return;
    }
    default:
      return;
  }
}
