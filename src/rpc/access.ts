import type { CborValue } from '../codec/index.js';
import type { TrustStore } from '../identity/index.js';
import type { Kernel } from '../kernel/index.js';
import {
  AclDeniedError,
  commandCount,
  type Limiter,
  NotLoggedInError,
  type Subject,
} from '../policy/index.js';
import type { Handler, HandlerContext } from './server.js';

type M = Record<string, CborValue>;

/** Ops anyone may call before logging in. */
const OPEN_OPS = new Set(['handshake', 'session.login', 'session.whoami']);

/** Ops that need a login and nothing more (they touch only the caller's own subscriptions). */
const LOGIN_ONLY = new Set(['mp.ack', 'mp.unsubscribe']);

const SWS_ID = /^[0-9a-f]{32}$/;

/** Ops that make the kernel write (charged as commands by the rate limits). */
const WRITE_OPS = new Set([
  'shadow.create',
  'shadow.apply_patch',
  'shadow.annotate',
  'shadow.discard',
  'shadow.commit',
  'shadow.add_member',
  'shadow.remove_member',
  'collapse.commit',
  'ref.set',
  'ref.create_branch',
  'ref.create_tag',
  'ref.delete',
  'audit.append',
]);

function asMap(p: CborValue): M {
  return p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Uint8Array)
    ? (p as M)
    : {};
}

/** The resource an SWS op acts on; an id that cannot be one still gets a resource (never a member). */
const swsRes = (p: M): string =>
  `sws.${typeof p.id === 'string' && SWS_ID.test(p.id) ? p.id : '-'}`;
const refRes = (p: M): string =>
  `ref.${typeof p.name === 'string' && p.name.length > 0 && p.name.length <= 255 ? p.name : '-'}`;

/** The resource each guarded op acts on (its action is its own name). */
const RESOURCES: Record<string, (p: M) => string> = {
  'shadow.create': (p) => `ref.${typeof p.ref === 'string' && p.ref.length > 0 ? p.ref : 'main'}`,
  'shadow.list': () => 'sws',
  'ref.list': () => 'ref',
  'agent.list': () => 'trust',
  'agent.add': () => 'trust',
  'agent.remove': () => 'trust',
  'acl.list': () => 'acl',
  'acl.check': () => 'acl',
  'acl.set': () => 'acl',
  'jit.info': () => 'kernel',
  'jit.fsck': () => 'kernel',
  'audit.append': () => 'audit',
  'audit.head': () => 'audit',
  'audit.log': () => 'audit',
};
for (const op of [
  'apply_patch',
  'read',
  'files',
  'diff',
  'status',
  'annotate',
  'discard',
  'commit',
  'add_member',
  'remove_member',
])
  RESOURCES[`shadow.${op}`] = swsRes;
RESOURCES['collapse.commit'] = swsRes;
RESOURCES['collapse.validate'] = swsRes;
for (const op of ['get', 'set', 'create_branch', 'create_tag', 'delete'])
  RESOURCES[`ref.${op}`] = refRes;
for (const op of ['get_node', 'get_parents', 'lineage', 'subgraph'])
  RESOURCES[`dag.${op}`] = () => 'dag';

/** Ops whose payload names the agent acting (`agent`) or writing (`owner`, `author`). */
const ACTING_AS: Record<string, (p: M) => [field: string, value: CborValue | undefined]> = {
  'shadow.create': (p) => ['owner', p.owner],
  'shadow.apply_patch': (p) => ['patch.author', asMap(p.patch ?? null).author],
  'shadow.annotate': (p) => ['author', p.author],
  'shadow.commit': (p) => ['agent', p.agent],
  'collapse.commit': (p) => ['agent', p.agent],
  'collapse.validate': (p) => ['agent', p.agent],
  'shadow.discard': (p) => ['agent', p.agent],
  'audit.append': (p) => ['by', p.by],
};

/** A refusal by the guard, as reported to `onDenied`. */
export interface Denial {
  readonly agent: string | null;
  readonly op: string;
  readonly error: string;
  readonly reason: string;
}

export interface GuardOptions {
  readonly kernel: Kernel;
  readonly trust: TrustStore;
  /** Hears every refusal (jitd counts them and reports them on `jit.kernel.events`). */
  readonly onDenied?: (d: Denial) => void;
  /** Rate limits and payload caps per agent and topic; without it, none. */
  readonly limiter?: Limiter;
}

/**
 * Puts the ACL in front of every op of `handlers` (in place): the caller must have logged in
 * (`session.login`; the bridge acts as a message's verified sender), and the kernel's policy must
 * allow the op on what it names (`sws.<id>`, `ref.<name>`, `dag`, `trust`, `acl`, `kernel`;
 * `mp.publish` and `mp.subscribe` as publish/subscribe on their topics). A non-admin may not act
 * in another agent's name (owner, author, agent must be itself; left out, they are filled in) and
 * `shadow.list` shows it only the SWSs it may see. A refusal happens before the handler runs, so
 * it never changes state, and an SWS it may not see is refused the same way whether or not it
 * exists (ids cannot be probed). An op nobody mapped is for administrators only.
 */
export function guardOps(handlers: Map<string, Handler>, o: GuardOptions): void {
  const policy = o.kernel.policy;
  const subjectOf = (ctx: HandlerContext, op: string): Subject => {
    const agent = ctx.session.agent;
    if (agent === undefined)
      throw new NotLoggedInError(`${op} needs a login first (session.login with the agent's key)`, {
        op,
      });
    const a = o.trust.get(agent);
    if (a === undefined)
      throw new NotLoggedInError(`${agent} is no longer in the trust store; log in again`, {
        agent,
      });
    return { agent, role: a.role };
  };
  const privileged = (who: Subject): boolean => who.role === 'admin' || who.role === 'kernel';

  /** Checks one call by `who`; returns the payload the handler gets (owner/agent filled in), or throws. */
  const admit = (op: string, p: CborValue, ctx: HandlerContext, who: Subject): CborValue => {
    const m = asMap(p);
    if (LOGIN_ONLY.has(op)) return p;
    if (op === 'mp.subscribe') {
      if (typeof m.pattern === 'string') policy.check(who, 'subscribe', m.pattern);
      o.limiter?.charge(who, 1, ctx.bytes);
      return p;
    }
    if (op === 'mp.publish') {
      // all checked before any is published: one refused topic refuses the batch
      const topics: string[] = [];
      let largest = 0;
      if (Array.isArray(m.msgs))
        for (const msg of m.msgs)
          if (Array.isArray(msg) && typeof msg[0] === 'string') {
            policy.check(who, 'publish', msg[0]);
            topics.push(msg[0]);
            if (msg[1] instanceof Uint8Array && msg[1].length > largest) largest = msg[1].length;
          }
      o.limiter?.charge(who, Math.max(1, topics.length), largest, topics, commandCount(topics));
      return p;
    }
    if (ctx.charged !== true) o.limiter?.charge(who, 1, ctx.bytes, [], WRITE_OPS.has(op) ? 1 : 0);
    const resource = RESOURCES[op];
    if (resource === undefined) {
      if (!privileged(who))
        throw new AclDeniedError(`${op} is for administrators`, { agent: who.agent, op });
      return p;
    }
    policy.check(who, op, resource(m));
    // who changes members is the caller (an administrator may change any SWS's)
    if (op === 'shadow.add_member' || op === 'shadow.remove_member')
      return { ...m, by: privileged(who) ? null : who.agent };
    const actingAs = ACTING_AS[op];
    if (actingAs === undefined) return p;
    const [field, value] = actingAs(m);
    // left out, the actor is the caller (an administrator's too)
    if (value === undefined && (field === 'agent' || field === 'owner' || field === 'by'))
      return { ...m, [field]: who.agent };
    if (privileged(who)) return p;
    // a value that is no agent id at all is the handler's to refuse (E_BAD_PAYLOAD)
    if (typeof value === 'string' && value !== who.agent)
      throw new AclDeniedError(
        `${who.agent} may not act as ${JSON.stringify(value)} (${field} must be ${who.agent})`,
        { agent: who.agent, op },
      );
    return p;
  };

  for (const [op, h] of [...handlers]) {
    if (OPEN_OPS.has(op)) continue;
    handlers.set(op, async (p, ctx) => {
      let who: Subject;
      let payload: CborValue;
      try {
        who = subjectOf(ctx, op);
        payload = admit(op, p, ctx, who);
      } catch (e) {
        o.onDenied?.({
          agent: ctx.session.agent ?? null,
          op,
          error: (e as Error).name,
          reason: (e as Error).message,
        });
        throw e;
      }
      const result = await h(payload, ctx);
      if (op !== 'shadow.list' || privileged(who)) return result;
      // shadow.list shows only the SWSs the caller may see
      const r = asMap(result);
      const all = Array.isArray(r.sws) ? (r.sws as M[]) : [];
      return {
        ...r,
        sws: all.filter((s) => policy.decide(who, 'shadow.status', `sws.${String(s.id)}`).allowed),
      };
    });
  }
}
