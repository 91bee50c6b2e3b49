import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { ErrorCode } from '../errors/index.js';
import { COMMAND_TOPIC } from '../policy/index.js';
import { type Handler, type HandlerContext, toWireError } from '../rpc/index.js';
import { perSecond } from '../util/per-second.js';
import { within } from '../util/time.js';
import { type AnswerStore, type MarkedAt, MemoryAnswers } from './answers.js';
import { ImpersonationError, StaleStreamError } from './errors.js';
import { FairQueue } from './fair-queue.js';
import { MARK_WINDOW, type MarkRefusal, type StreamMark, StreamMarks } from './marks.js';
import {
  MAX_TTL_MS,
  type Message,
  type Plane,
  type PlaneSubscription,
  type Rejection,
} from './plane.js';
import { Topics } from './topic.js';

const debug = debuglog('jit:bridge');

/** Commands of one kind the bridge has in hand (running in the kernel) at once. */
const BRIDGE_CONCURRENCY = 64;

/**
 * Commands of one kind the bridge takes from the transport before running them, to pick among
 * them fairly by sender (round-robin, FIFO per sender): one agent's backlog waits behind its own
 * commands, not in front of everyone else's.
 */
const BRIDGE_LOOKAHEAD = 1024;

/** Rejections reported one by one per second; the rest are counted into one summary a second. */
const REPORTS_PER_S = 200;

/** How long `close` waits for commands in hand and their answers. */
const DRAIN_MS = 2000;

/** The durable consumer name the bridge subscribes with. */
export const BRIDGE_GROUP = 'jit-kernel-bridge';

type M = Record<string, CborValue>;

const COMMANDS = ['patch', 'commit', 'discard', 'analyze'] as const;
type Command = (typeof COMMANDS)[number];

export interface BridgeOptions {
  /** The kernel's plane: sender `jit-kernel`, signed with the kernel key, verifying with the trust store. */
  readonly plane: Plane;
  /** The RPC ops; the bridge calls them exactly as a client would, and wraps them to notify. */
  readonly handlers: Map<string, Handler>;
  /**
   * Remembered answers by (sender, id), for answering a retried or replayed command without running
   * it again (default: 16384 in memory; jitd keeps them in a file across restarts). Not closed by
   * the bridge.
   */
  readonly answers?: AnswerStore;
}

export interface Bridge {
  /** Commands in hand and notifications not yet published (a queue depth, for metrics). */
  readonly pending: number;
  /** Replayed commands: answered again from a kept answer, or refused by a stream mark. */
  readonly replayed: Readonly<Record<'answered' | MarkRefusal, number>>;
  close(): Promise<void>;
}

/**
 * The kernel bridge (DESIGN §6, RFC-0008): `jit.sws.<id>.patch|commit|discard` messages become the
 * same RPC calls any client makes (`shadow.apply_patch`, `shadow.commit`, `shadow.discard`), acting
 * as the message's signed sender, and findings on `jit.sws.<id>.analyze` become `shadow.annotate`, and each gets an answer on `jit.sws.<id>.status` naming the
 * message id. It never touches the DAG itself. It also wraps the RPC ops so that SWS lifecycle
 * events and ref moves are published, signed by the kernel, once they are durable (an op's answer
 * comes only after the WAL sync). Dropped messages are reported on `jit.kernel.events`.
 */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const { plane, handlers } = o;
  // commands being handled and notifications being published: close() lets them finish, so
  // answers given before a stop reach the broker
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const notify = (topic: string, payload: CborValue): void => {
    track(
      plane
        .publish(topic, payload)
        .catch((e: unknown) => debug('cannot publish on %s: %o', topic, e)),
    );
  };
  wrapForNotifications(handlers, notify);

  const answered = o.answers ?? new MemoryAnswers(16384);
  /** A call made for a message acts as its verified sender: the ACL sees the sender, not the kernel. */
  const ctx = (sender: string): HandlerContext => ({
    session: { agent: sender },
    bytes: 0,
    charged: true,
    signal: new AbortController().signal,
    challenge: 'bridge',
    rid: 0,
    push: () => undefined,
  });

  // each refusal is reported on its own up to REPORTS_PER_S a second; beyond that they are
  // counted and reported once a second as {event: "rejected-many", counts: {reason: n}}, so a
  // flood of junk does not make the kernel sign one event per junk message
  const reportable = perSecond(REPORTS_PER_S);
  let pendingCounts: Record<string, number> = {};
  const flushCounts = (): void => {
    if (Object.keys(pendingCounts).length === 0) return;
    notify(Topics.kernelEvents, { event: 'rejected-many', counts: pendingCounts });
    pendingCounts = {};
  };
  const summaries = setInterval(flushCounts, 1000);
  summaries.unref();
  const report = (
    reason: string,
    topic: string,
    sender: string | null,
    id: string | null,
    detail?: string,
  ): void => {
    if (reportable())
      notify(Topics.kernelEvents, {
        event: 'rejected',
        reason,
        topic,
        sender,
        id,
        ...(detail === undefined ? {} : { detail }),
      });
    else pendingCounts[reason] = (pendingCounts[reason] ?? 0) + 1;
  };

  const stopReports = plane.onReject((r: Rejection) => {
    // a command the ACL or a rate limit refused gets its answer, so the sender's outbox stops
    const m = COMMAND_TOPIC.exec(r.topic);
    const refusal =
      r.reason === 'denied'
        ? ('E_ACCESS_DENIED' as const)
        : r.reason === 'rate-limited'
          ? ('E_RATE_LIMITED' as const)
          : undefined;
    if (refusal !== undefined && m !== null && r.sender !== undefined && r.id !== undefined)
      notify(
        Topics.swsStatus(m[1]!),
        failed(r.id, r.sender, m[2]!, {
          code: ErrorCode[refusal],
          name: refusal,
          message: r.detail ?? r.reason,
        }),
      );
    if (r.reason === 'duplicate' && r.sender !== undefined && r.id !== undefined) {
      // a retried (or replayed) command: answer it again, since the first answer may have been
      // lost; it is not run twice
      const key = `${r.sender}\u0000${r.id}`;
      const a = answered.get(key);
      if (a !== undefined) notify(a.topic, a.answer);
      // still in hand (commands run concurrently): answered once more when its answer is ready
      else if (inHand.has(key)) inHand.set(key, inHand.get(key)! + 1);
    }
    report(r.reason, r.topic, r.sender ?? null, r.id ?? null);
  });

  const replayed = { answered: 0, 'old-stream': 0, 'behind-mark': 0 };
  /** Commands being run, with how many more copies of each (retries) arrived meanwhile. */
  const inHand = new Map<string, number>();
  const handle = async (kind: Command, m: Message): Promise<void> => {
    const key = `${m.sender}\u0000${m.id}`;
    const prior = answered.get(key);
    if (prior !== undefined) {
      // a copy of a command already answered (after a restart, the duplicate window is empty
      // but the answers are kept): answered again, never run again, and reported
      notify(prior.topic, prior.answer);
      replayed.answered++;
      report('replayed', m.topic, m.sender, m.id);
      return;
    }
    // never answered: from a stream its sender has left, or too far behind its stream's mark, it
    // is a replay the answers no longer recognise (see StreamMarks); refused, not answered
    const markKey = StreamMarks.key(m.sender, m.topic);
    const ep = m.envelope.ep ?? 0;
    const refusal = answered.marks.check(markKey, ep, m.envelope.seq);
    if (refusal !== undefined) {
      debug('refused %s on %s from %s: %s', m.id, m.topic, m.sender, refusal);
      replayed[refusal]++;
      report('replayed', m.topic, m.sender, m.id, refusal);
      // answered (not kept: it was not run), so a sender still waiting stops retrying and hears
      // why: most often two planes of one agent at once, the older one's commands refused
      const error = toWireError(staleStream(m, refusal, answered.marks.get(markKey)));
      notify(Topics.swsStatus(m.topic.split('.')[2]!), failed(m.id, m.sender, kind, error));
      return;
    }
    inHand.set(key, 0);
    try {
      await respond(kind, m, key, markKey, ep);
    } finally {
      inHand.delete(key);
    }
  };
  const respond = async (
    kind: Command,
    m: Message,
    key: string,
    markKey: string,
    ep: number,
  ): Promise<void> => {
    const sws = m.topic.split('.')[2]!;
    const statusTopic = Topics.swsStatus(sws);
    const p = (m.payload ?? {}) as M;
    // analyze carries requests between agents too; the kernel records findings only
    if (kind === 'analyze' && p.kind !== 'finding') return;
    const longest = Date.now() + MAX_TTL_MS;
    const exp = m.envelope.exp ?? longest;
    const mark: MarkedAt = { key: markKey, ep, seq: m.envelope.seq, until: Math.max(exp, longest) };
    answered.marks.advance(mark.key, mark.ep, mark.seq, mark.until);
    let answer: M;
    try {
      const result = await run(kind, sws, m.sender, p);
      answer = { re: m.id, sender: m.sender, op: kind, ok: true, result };
    } catch (e) {
      answer = failed(m.id, m.sender, kind, toWireError(e));
    }
    answered.set(key, { topic: statusTopic, answer, exp, mark });
    // not awaited (waiting for each answer's broker ack made the bridge collapse under retries
    // on MQTT, where a subscription holds one delivery at a time); close() waits for it. An
    // answer lost anyway is drawn again by the outbox's retry: from `answered`, or, after a
    // restart, by running the (idempotent) command again. Copies that came while it ran get one
    // answer each
    for (let copies = 1 + (inHand.get(key) ?? 0); copies > 0; copies--) notify(statusTopic, answer);
  };

  const run = async (kind: Command, sws: string, sender: string, p: M): Promise<CborValue> => {
    const call = (op: string, payload: CborValue): Promise<CborValue> =>
      Promise.resolve(handlers.get(op)!(payload, ctx(sender)));
    switch (kind) {
      case 'patch': {
        const patch = p.patch as M | undefined;
        if (patch !== null && typeof patch === 'object' && patch.author !== sender)
          throw new ImpersonationError(
            `a patch published by ${sender} must name ${sender} as its author`,
            { sender },
          );
        return call('shadow.apply_patch', { id: sws, patch: patch ?? null });
      }
      case 'commit':
        return call('shadow.commit', {
          id: sws,
          agent: sender,
          ...(typeof p.message === 'string' ? { message: p.message } : {}),
        });
      case 'discard':
        return call('shadow.discard', { id: sws, agent: sender });
      case 'analyze':
        return call('shadow.annotate', {
          id: sws,
          author: sender,
          path: p.path ?? null,
          severity: p.severity ?? null,
          message: p.message ?? null,
          range: p.range ?? null,
        });
    }
  };

  const subs: PlaneSubscription[] = [];
  for (const kind of COMMANDS) {
    // commands are admitted as each one starts: FIFO per sender, round-robin across senders;
    // many in hand share one WAL sync (one at a time, each waited for the last one's: fsync-bound)
    const fair = new FairQueue(BRIDGE_CONCURRENCY);
    subs.push(
      await plane.subscribe(
        `jit.sws.*.${kind}`,
        (m) => {
          const h = fair.run(m.sender, () => handle(kind, m));
          track(h.catch(() => undefined));
          return h;
        },
        {
          group: `${BRIDGE_GROUP}-${kind}`,
          fair: true,
          concurrency: BRIDGE_LOOKAHEAD,
          maxInFlight: BRIDGE_LOOKAHEAD,
        },
      ),
    );
  }
  return {
    get pending() {
      return pending.size;
    },
    replayed,
    close: async () => {
      stopReports();
      clearInterval(summaries);
      flushCounts();
      await Promise.all(subs.map((s) => s.close()));
      // drain: the commands in hand and the answers they give meanwhile (at most DRAIN_MS)
      const deadline = performance.now() + DRAIN_MS;
      while (pending.size > 0 && performance.now() < deadline)
        await within(Promise.allSettled([...pending]), deadline - performance.now(), undefined);
      if (pending.size > 0) debug('stopped with %d answers not yet published', pending.size);
    },
  };
}

/** The answer to command `re` of `sender` that failed with `w` (its code, name and message). */
function failed(
  re: string,
  sender: string,
  op: string,
  w: { readonly code: number; readonly name: string; readonly message: string },
): M {
  return { re, sender, op, ok: false, error: { code: w.code, name: w.name, message: w.message } };
}

/** The error a command refused by its stream's mark is answered with, saying what to do. */
function staleStream(m: Message, why: MarkRefusal, mark: StreamMark | undefined): StaleStreamError {
  const at = mark === undefined ? '' : ` (its mark: epoch ${mark.ep}, seq ${mark.seq})`;
  const message =
    why === 'old-stream'
      ? `the kernel has taken commands on ${m.topic} from a later plane of ${m.sender} than this one (stream epoch ${m.envelope.ep ?? 0})${at}: once a newer plane of an agent has spoken on a topic, an older one's commands are refused as replays. Run one plane per agent at a time, or give each process its own agent id`
      : `command ${m.envelope.seq} of ${m.sender}'s stream on ${m.topic} is ${MARK_WINDOW} or more behind the latest the kernel took${at}: refused as a replay`;
  return new StaleStreamError(message, { reason: why, sender: m.sender, topic: m.topic });
}

/**
 * Publishes SWS lifecycle events, ref moves and policy changes (members, ACL rules, the trust
 * store) after the ops that make them have answered.
 */
function wrapForNotifications(
  handlers: Map<string, Handler>,
  notify: (topic: string, payload: CborValue) => void,
): void {
  const wrap = (op: string, after: (payload: M, result: M) => void): void => {
    const h = handlers.get(op);
    if (h === undefined) return;
    handlers.set(op, async (p, ctx) => {
      const r = await h(p, ctx);
      after(p as M, r as M);
      return r;
    });
  };
  const lifecycle = Topics.kernelSwsLifecycle;
  wrap('shadow.create', (_p, r) =>
    notify(lifecycle, { event: 'created', sws: r.id!, base_node: r.base_node ?? null }),
  );
  const collapsed = (p: M, r: M): void => {
    if (r.updated === false) return;
    notify(lifecycle, { event: 'collapsed', sws: p.id!, snapshot: r.snapshot!, ref: r.ref! });
    notify(Topics.kernelRefUpdates, {
      ref: r.ref!,
      target: r.snapshot!,
      by: 'collapse',
      sws: p.id!,
    });
  };
  wrap('shadow.commit', collapsed);
  wrap('collapse.commit', collapsed);
  wrap('shadow.discard', (p) => notify(lifecycle, { event: 'discarded', sws: p.id! }));
  wrap('ref.delete', (p, r) => {
    for (const sws of (r.invalidated as string[] | undefined) ?? [])
      notify(lifecycle, { event: 'invalidated', sws, reason: 'branch-deleted', ref: p.name! });
  });
  // who may do what: agents' planes (sdk/acl-view.ts) follow these to check what they receive
  const policy = Topics.kernelPolicy;
  for (const op of ['shadow.add_member', 'shadow.remove_member'])
    wrap(op, (p, r) => {
      if (r.updated !== false)
        notify(policy, { event: 'members', sws: p.id!, members: r.members! });
    });
  wrap('acl.set', (_p, r) => {
    if (r.updated !== false) notify(policy, { event: 'acl', digest: r.digest! });
  });
  for (const op of ['agent.add', 'agent.remove'])
    wrap(op, (p) => notify(policy, { event: 'agents', agent: p.agent ?? null }));
  for (const op of ['ref.set', 'ref.create_branch', 'ref.create_tag', 'ref.delete'])
    wrap(op, (p, r) => {
      const ref = r.ref as M | null | undefined;
      notify(Topics.kernelRefUpdates, {
        ref: (p.name as string) ?? null,
        target: ref === null || ref === undefined ? null : (ref.target ?? null),
        by: op,
      });
    });
}
