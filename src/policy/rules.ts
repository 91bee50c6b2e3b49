import { type CborValue, decode, encode } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import { type AgentRole, checkAgentId, ROLES } from '../identity/index.js';
import { patternMatcher } from '../util/pattern.js';
import { AclInputError } from './errors.js';

export type Role = AgentRole;

/**
 * Every action the ACL knows: `publish` and `subscribe` (resources: topics and patterns), and
 * every RPC op that acts on something (resources: `sws.<id>`, `ref.<name>`, `dag`, `trust`,
 * `acl`, `kernel`). Rule actions are patterns over these (`shadow.*`, `ref.>`).
 */
export const ACTIONS = [
  'publish',
  'subscribe',
  'shadow.create',
  'shadow.apply_patch',
  'shadow.read',
  'shadow.files',
  'shadow.diff',
  'shadow.status',
  'shadow.annotate',
  'shadow.list',
  'shadow.discard',
  'shadow.commit',
  'shadow.add_member',
  'shadow.remove_member',
  'collapse.commit',
  'collapse.validate',
  'ref.get',
  'ref.list',
  'ref.set',
  'ref.create_branch',
  'ref.create_tag',
  'ref.delete',
  'dag.get_node',
  'dag.get_parents',
  'dag.lineage',
  'dag.subgraph',
  'agent.list',
  'agent.add',
  'agent.remove',
  'acl.list',
  'acl.check',
  'acl.set',
  'jit.info',
  'jit.fsck',
] as const;
export type Action = (typeof ACTIONS)[number];

export type Effect = 'allow' | 'deny';

/**
 * `allow|deny(who, action, resource)`. `who` is an agent id, `role:<role>` or `*` (everyone);
 * `action` and `resource` are patterns (`*` one token, `>` the rest). Deny wins.
 */
export interface AclRule {
  readonly effect: Effect;
  readonly who: string;
  readonly action: string;
  readonly resource: string;
}

const ACTION_TOKEN = /^[a-z_]+$/;
// resource tokens: topic tokens plus what ref names hold ("/")
const RESOURCE_TOKEN = /^[A-Za-z0-9_/-]+$/;

function checkPatternText(v: unknown, what: string, token: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 512)
    throw new AclInputError(
      `a rule's ${what} is a pattern of 1-512 characters, not ${describeValue(v)}`,
    );
  const ts = v.split('.');
  ts.forEach((t, i) => {
    if (t === '*' || token.test(t) || (t === '>' && i === ts.length - 1)) return;
    throw new AclInputError(
      `the ${what} pattern "${v}" has a bad token "${t}" ("*" is one token, ">" the rest and only last)`,
    );
  });
  return v;
}

/** Checks one rule; returns it in its plain form. */
export function checkRule(r: unknown): AclRule {
  if (r === null || typeof r !== 'object' || Array.isArray(r))
    throw new AclInputError(
      `a rule is {effect, who, action, resource}, not ${describeValue(r as CborValue)}`,
    );
  const { effect, who, action, resource, ...rest } = r as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new AclInputError(`a rule has no field ${extra[0]}`);
  if (effect !== 'allow' && effect !== 'deny')
    throw new AclInputError(
      `a rule's effect is "allow" or "deny", not ${describeValue(effect as CborValue)}`,
    );
  if (typeof who !== 'string')
    throw new AclInputError(
      `a rule's who is an agent id, role:<role> or *, not ${describeValue(who as CborValue)}`,
    );
  if (who.startsWith('role:')) {
    if (!(ROLES as readonly string[]).includes(who.slice(5)))
      throw new AclInputError(`"${who}" names no role (roles: ${ROLES.join(', ')})`);
  } else if (who !== '*') {
    try {
      checkAgentId(who);
    } catch (e) {
      throw new AclInputError(`a rule's who: ${(e as Error).message}`, {}, { cause: e });
    }
  }
  const a = checkPatternText(action, 'action', ACTION_TOKEN);
  const m = patternMatcher(a);
  if (!ACTIONS.some((x) => m(x)))
    throw new AclInputError(
      `the action pattern "${a}" matches no action (actions: ${ACTIONS.join(', ')})`,
    );
  return {
    effect,
    who,
    action: a,
    resource: checkPatternText(resource, 'resource', RESOURCE_TOKEN),
  };
}

function compareRules(a: AclRule, b: AclRule): number {
  for (const k of ['effect', 'who', 'action', 'resource'] as const)
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

/**
 * A rule list in its canonical form: each rule checked, duplicates dropped, sorted by (effect,
 * who, action, resource). Evaluation does not depend on order (deny wins), so this loses nothing.
 */
export function canonicalRules(rules: unknown): AclRule[] {
  if (!Array.isArray(rules))
    throw new AclInputError('rules are an array of {effect, who, action, resource}');
  if (rules.length > 100_000) throw new AclInputError('at most 100000 rules');
  const out = rules.map(checkRule).sort(compareRules);
  return out.filter((r, i) => i === 0 || compareRules(out[i - 1]!, r) !== 0);
}

/** How a rule reads: `deny(bob, publish, jit.>)`. */
export function ruleText(r: AclRule): string {
  return `${r.effect}(${r.who}, ${r.action}, ${r.resource})`;
}

/** The canonical CBOR of a rule list (the ACL_SET record's payload). */
export function encodeRules(rules: readonly AclRule[]): Uint8Array {
  return encode({ rules: rules.map((r) => [r.effect, r.who, r.action, r.resource]) });
}

export function decodeRules(b: Uint8Array): AclRule[] {
  const v = decode(b) as { rules: [Effect, string, string, string][] };
  return canonicalRules(
    v.rules.map(([effect, who, action, resource]) => ({ effect, who, action, resource })),
  );
}

/** The rule file (`<home>/acl.json`) as text: one rule a line, so diffs read well. */
export function rulesFileText(rules: readonly AclRule[]): string {
  const lines = rules.map((r) => `    ${JSON.stringify(r)}`);
  return `{\n  "version": 1,\n  "rules": [\n${lines.join(',\n')}${lines.length > 0 ? '\n' : ''}  ]\n}\n`;
}

export function parseRulesFile(text: string, path: string): AclRule[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AclInputError(`${path} is not JSON: ${(e as Error).message}`, { path }, { cause: e });
  }
  const f = v as { version?: unknown; rules?: unknown };
  if (f === null || typeof f !== 'object' || f.version !== 1)
    throw new AclInputError(`${path} must be {"version": 1, "rules": [...]}`, { path });
  try {
    return canonicalRules(f.rules);
  } catch (e) {
    throw new AclInputError(`${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}
