import { blake3Hex, type CborValue } from '../codec/index.js';
import type { TrustStore } from '../identity/index.js';
import type { Kernel } from '../kernel/index.js';
import {
  ACTIONS,
  AclConflictError,
  type AclRule,
  encodeRules,
  type Role,
} from '../policy/index.js';
import { BadRequestError } from './errors.js';
import type { Handler } from './server.js';

type M = Record<string, CborValue>;

/** The digest `acl.list` answers and `acl.set` may expect: BLAKE3 of the ACL_SET payload. */
export function rulesDigest(rules: readonly AclRule[]): string {
  return blake3Hex(encodeRules(rules));
}

function map(p: CborValue): M {
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Uint8Array)
    throw new BadRequestError('the payload must be a map');
  return p as M;
}

/**
 * The ACL ops: `acl.list` (rules and their digest), `acl.check {agent, action, resource}` (the
 * decision and its reason, for `jit acl check`), `acl.set {rules, expect?}` (replaces every rule,
 * WAL-logged; `expect` is the digest the rules must have now, so two admins do not overwrite each
 * other). Who may call which is the guard's business (acl.set: admins only). `onChange` hears the
 * new rules after they are durable, and `acl.set` answers once it has settled (jitd writes
 * acl.json there, so the file shows a change by the time its caller hears of it).
 */
export function aclOps(
  kernel: Kernel,
  trust: TrustStore,
  onChange: (rules: readonly AclRule[]) => Promise<void> | void = () => undefined,
): [string, Handler][] {
  const view = (rules: readonly AclRule[]): M => ({
    rules: rules.map((r) => ({ ...r })),
    digest: rulesDigest(rules),
  });
  return [
    ['acl.list', () => view(kernel.policy.list)],
    [
      'acl.check',
      (p) => {
        const m = map(p);
        const agent = m.agent;
        if (typeof agent !== 'string')
          throw new BadRequestError('payload.agent must be an agent id');
        const role = (typeof m.role === 'string' ? m.role : trust.get(agent)?.role) as
          | Role
          | undefined;
        if (role === undefined)
          throw new BadRequestError(
            `${agent} is not in the trust store; give a role (jit acl check --role, payload.role) to ask anyway`,
          );
        if (typeof m.action !== 'string' || !(ACTIONS as readonly string[]).includes(m.action))
          throw new BadRequestError(`payload.action must be one of ${ACTIONS.join(', ')}`);
        if (typeof m.resource !== 'string' || m.resource.length === 0)
          throw new BadRequestError(
            'payload.resource must be a resource (sws.<id>, ref.<name>, a topic…)',
          );
        const d = kernel.policy.decide({ agent, role }, m.action, m.resource);
        return { allowed: d.allowed, reason: d.reason, agent, role };
      },
    ],
    [
      'acl.set',
      async (p) => {
        const m = map(p);
        if (m.expect !== undefined && m.expect !== rulesDigest(kernel.policy.list))
          throw new AclConflictError(
            'the rules changed since you read them (acl.list again and reapply your change)',
          );
        const r = await kernel.setAcl(m.rules as unknown as AclRule[]);
        if (r.updated) await onChange(r.rules);
        return { ...view(r.rules), updated: r.updated };
      },
    ],
  ];
}
