import type { Role } from './rules.js';

/**
 * What a role may do before any rule of the file is read (first match wins):
 * - `deny`: never, whatever a rule says (hard limits: kernel topics, admin-only ops, the sandbox);
 * - `allow`: yes unless a rule denies it;
 * - `member`: yes when the agent is a member of the SWS the resource names (token `*` in the
 *   pattern), else only by an explicit rule;
 * - `grant`: only by an explicit rule (a stop: later entries are not looked at).
 * No matching entry: only an explicit rule allows it, and for `restricted` nothing does.
 */
export interface RoleEntry {
  readonly effect: 'deny' | 'allow' | 'member' | 'grant';
  readonly action: string;
  readonly resource: string;
}

const e = (effect: RoleEntry['effect'], action: string, resource: string): RoleEntry => ({
  effect,
  action,
  resource,
});

/** Topics only the kernel publishes on; nobody else, admin included. */
const KERNEL_TOPICS = [
  e('deny', 'publish', 'jit.kernel.>'),
  e('deny', 'publish', 'jit.sws.*.status'),
];

/** Ops that change who may do what: admins only, never grantable. */
const ADMIN_ONLY = [
  e('deny', 'agent.add', '>'),
  e('deny', 'agent.remove', '>'),
  e('deny', 'acl.set', '>'),
  e('deny', 'jit.fsck', '>'),
];

/** An SWS's own ops and topics, for its members. */
const SWS_OPS = ['shadow.*', 'collapse.*'];

export const BUILTIN: Readonly<Record<Role, readonly RoleEntry[]>> = {
  kernel: [e('allow', '>', '>')],
  admin: [...KERNEL_TOPICS, e('allow', '>', '>')],
  agent: [
    ...KERNEL_TOPICS,
    ...ADMIN_ONLY,
    e('member', 'publish', 'jit.sws.*.>'),
    e('member', 'subscribe', 'jit.sws.*.>'),
    ...SWS_OPS.map((a) => e('member', a, 'sws.*')),
    // another SWS's topics and ops, or all of them at once, need an explicit grant
    e('grant', 'publish', 'jit.sws.>'),
    e('grant', 'subscribe', 'jit.sws.>'),
    ...SWS_OPS.map((a) => e('grant', a, 'sws.>')),
    e('allow', 'publish', '>'),
    e('allow', 'subscribe', '>'),
    e('allow', 'shadow.create', 'ref.>'),
    e('allow', 'shadow.list', 'sws'),
    e('allow', 'ref.*', 'ref.>'),
    e('allow', 'ref.list', 'ref'),
    e('allow', 'dag.*', 'dag'),
    e('allow', 'agent.list', 'trust'),
    e('allow', 'acl.list', 'acl'),
    e('allow', 'acl.check', 'acl'),
    e('allow', 'jit.info', 'kernel'),
    // the audit trail: anyone may read it and append (each entry names its authenticated author)
    e('allow', 'audit.*', 'audit'),
  ],
  // the sandbox: patches and findings to its own SWSs, reading them, their answers; nothing else
  restricted: [
    ...KERNEL_TOPICS,
    e('member', 'publish', 'jit.sws.*.patch'),
    e('member', 'publish', 'jit.sws.*.analyze'),
    e('member', 'subscribe', 'jit.sws.*.status'),
    e('member', 'subscribe', 'jit.sws.*.analyze'),
    ...['apply_patch', 'annotate', 'read', 'files', 'diff', 'status'].map((op) =>
      e('member', `shadow.${op}`, 'sws.*'),
    ),
    e('allow', 'jit.info', 'kernel'),
    // public keys, to check the kernel's answers and other members' findings; the rules and
    // their changes, so that its own plane refuses what the ACL forbids (sdk/acl-view.ts)
    e('allow', 'agent.list', 'trust'),
    e('allow', 'acl.list', 'acl'),
    e('allow', 'subscribe', 'jit.kernel.policy'),
  ],
};

/** Where a resource names an SWS: `sws.<id>` (ops) or `jit.sws.<id>.…` (topics). */
export function swsOfResource(resource: string): string | undefined {
  if (resource.startsWith('sws.')) {
    const id = resource.slice(4);
    return id.includes('.') ? undefined : id;
  }
  if (resource.startsWith('jit.sws.')) {
    const end = resource.indexOf('.', 8);
    return end < 0 ? undefined : resource.slice(8, end);
  }
  return undefined;
}
