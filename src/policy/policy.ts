import { patternCovers, patternMatcher } from '../util/pattern.js';
import { AclDeniedError } from './errors.js';
import { BUILTIN, type RoleEntry, swsOfResource } from './roles.js';
import { type AclRule, canonicalRules, type Role, ruleText } from './rules.js';

/** Who asks: an agent id and the role the trust store gives it. */
export interface Subject {
  readonly agent: string;
  readonly role: Role;
}

export interface Decision {
  readonly allowed: boolean;
  /** Why, in words: the rule or role entry that decided, or what is missing. */
  readonly reason: string;
}

/** Is `agent` a member (owner, delegate or added member) of SWS `sws`? */
export type MembershipLookup = (sws: string, agent: string) => boolean;

interface Compiled {
  readonly rule: AclRule;
  readonly action: (a: string) => boolean;
}

/** Cached decisions before the cache starts over (bounded memory). */
const CACHE_LIMIT = 65_536;

/**
 * The ACL (DESIGN §7, RFC-0020 §5): a pure, deterministic function of (rules, role entries,
 * memberships, subject, action, resource). Order of rules never matters:
 *   1. a rule of the file that denies it → denied;
 *   2. the first entry of the role's built-in list that applies (see roles.ts) decides: deny,
 *      allow, or allow-if-member; `grant` (and no entry) go on to step 3;
 *   3. `restricted` stops here (a rule can narrow its sandbox, never widen it);
 *   4. a rule of the file that allows it → allowed; else denied.
 * A subscription's resource may be a pattern: a rule or entry applies when its resource pattern
 * covers all of it. Decisions are cached until the rules change; membership is part of the key.
 */
export class Policy {
  private rules: readonly AclRule[] = [];
  private byWho = new Map<string, Compiled[]>();
  private readonly cache = new Map<
    string,
    { role: Role; actions: Map<string, Map<string, [Decision | undefined, Decision | undefined]>> }
  >();
  private cached = 0;
  private readonly memberOf: MembershipLookup;

  constructor(memberOf: MembershipLookup, rules: readonly AclRule[] = []) {
    this.memberOf = memberOf;
    this.setRules(rules);
  }

  /** The rules of the file, canonical. */
  get list(): readonly AclRule[] {
    return this.rules;
  }

  setRules(rules: readonly AclRule[]): void {
    this.rules = canonicalRules(rules);
    this.byWho = new Map();
    for (const rule of this.rules) {
      const l = this.byWho.get(rule.who) ?? [];
      if (l.length === 0) this.byWho.set(rule.who, l);
      l.push({ rule, action: patternMatcher(rule.action) });
    }
    this.cache.clear();
    this.cached = 0;
  }

  /** Decides whether `who` may do `action` on `resource` (a pattern only for `subscribe`). */
  decide(who: Subject, action: string, resource: string): Decision {
    const sws = swsOfResource(resource);
    const member = sws !== undefined && sws !== '*' && sws !== '>' && this.memberOf(sws, who.agent);
    // agent → action → resource → [not member, member]: three map lookups, no allocation
    let s = this.cache.get(who.agent);
    if (s === undefined || s.role !== who.role) {
      s = { role: who.role, actions: new Map() };
      this.cache.set(who.agent, s);
    }
    let byResource = s.actions.get(action);
    if (byResource === undefined) {
      byResource = new Map();
      s.actions.set(action, byResource);
    }
    let pair = byResource.get(resource);
    if (pair === undefined) {
      if (++this.cached > CACHE_LIMIT) {
        this.cache.clear();
        this.cached = 0;
        return this.decide(who, action, resource);
      }
      pair = [undefined, undefined];
      byResource.set(resource, pair);
    }
    const i = member ? 1 : 0;
    let d = pair[i];
    if (d === undefined) {
      d = this.evaluate(who, action, resource, member, sws);
      pair[i] = d;
    }
    return d;
  }

  /** As `decide`, throwing AclDeniedError with the reason when it is refused. */
  check(who: Subject, action: string, resource: string): void {
    const d = this.decide(who, action, resource);
    if (!d.allowed)
      throw new AclDeniedError(
        `${who.agent} (${who.role}) may not ${action} ${resource}: ${d.reason}`,
        {
          agent: who.agent,
          action,
          resource,
        },
      );
  }

  private matching(
    who: Subject,
    effect: 'allow' | 'deny',
    action: string,
    resource: string,
  ): AclRule | undefined {
    for (const w of [who.agent, `role:${who.role}`, '*'])
      for (const c of this.byWho.get(w) ?? [])
        if (
          c.rule.effect === effect &&
          c.action(action) &&
          patternCovers(c.rule.resource, resource)
        )
          return c.rule;
    return undefined;
  }

  private evaluate(
    who: Subject,
    action: string,
    resource: string,
    member: boolean,
    sws: string | undefined,
  ): Decision {
    const denied = this.matching(who, 'deny', action, resource);
    if (denied !== undefined) return { allowed: false, reason: `denied by ${ruleText(denied)}` };
    let needs = `no rule allows it`;
    for (const entry of BUILTIN[who.role]) {
      if (!applies(entry, action, resource)) continue;
      if (entry.effect === 'deny')
        return { allowed: false, reason: `the ${who.role} role never may (${entryText(entry)})` };
      if (entry.effect === 'allow') return { allowed: true, reason: `the ${who.role} role may` };
      if (entry.effect === 'member') {
        if (member) return { allowed: true, reason: `a member of SWS ${sws} may` };
        continue;
      }
      needs =
        sws === undefined || sws === '*' || sws === '>'
          ? 'every SWS at once needs an explicit grant'
          : `${who.agent} is not a member of SWS ${sws}, and no rule grants it`;
      break;
    }
    if (who.role === 'restricted')
      return {
        allowed: false,
        reason:
          needs === 'no rule allows it'
            ? 'outside the restricted sandbox (patches, findings and reads of its own SWSs)'
            : needs,
      };
    const allowed = this.matching(who, 'allow', action, resource);
    if (allowed !== undefined) return { allowed: true, reason: `allowed by ${ruleText(allowed)}` };
    return { allowed: false, reason: needs };
  }
}

const entryMatchers = new WeakMap<RoleEntry, (a: string) => boolean>();

function applies(entry: RoleEntry, action: string, resource: string): boolean {
  let m = entryMatchers.get(entry);
  if (m === undefined) {
    m = patternMatcher(entry.action);
    entryMatchers.set(entry, m);
  }
  return m(action) && patternCovers(entry.resource, resource);
}

function entryText(e: RoleEntry): string {
  return `${e.effect} ${e.action} on ${e.resource}`;
}

/** The built-in role entries in words (for `jit acl list --builtin`). */
export function builtinText(): { role: Role; entries: string[] }[] {
  return (Object.keys(BUILTIN) as Role[]).map((role) => ({
    role,
    entries: BUILTIN[role].map(entryText),
  }));
}
