import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACTIONS,
  AclDeniedError,
  AclInputError,
  type AclRule,
  canonicalRules,
  checkRule,
  decodeRules,
  encodeRules,
  Policy,
  parseRulesFile,
  rulesFileText,
  type Subject,
} from '../../src/policy/index.js';
import { patternCovers } from '../../src/util/pattern.js';
import { replayHint, rng, testSeed } from '../helpers/seed.js';

const SWS = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const bob: Subject = { agent: 'bob', role: 'agent' };
const llm: Subject = { agent: 'llm', role: 'restricted' };
const root: Subject = { agent: 'root', role: 'admin' };

/** A policy where bob and llm are members of SWS only. */
function policy(rules: AclRule[] = []): Policy {
  return new Policy((sws, agent) => sws === SWS && (agent === 'bob' || agent === 'llm'), rules);
}

const allow = (who: string, action: string, resource: string): AclRule => ({
  effect: 'allow',
  who,
  action,
  resource,
});
const deny = (who: string, action: string, resource: string): AclRule => ({
  effect: 'deny',
  who,
  action,
  resource,
});

describe('ACL rules', () => {
  it('refuses malformed rules with a typed error that says what is wrong', () => {
    const bad: [unknown, RegExp][] = [
      [null, /a rule is/],
      [{ ...allow('bob', 'publish', 'x'), effect: 'maybe' }, /effect/],
      [allow('role:root', 'publish', 'x'), /names no role/],
      [allow('-bob', 'publish', 'x'), /agent id/],
      [allow('bob', 'launch', 'x'), /matches no action/],
      [allow('bob', 'publish', 'jit.>.x'), /bad token/],
      [allow('bob', 'publish', 'a b'), /bad token/],
      [allow('bob', 'publish', ''), /pattern of 1-512/],
      [{ ...allow('bob', 'publish', 'x'), extra: 1 }, /no field extra/],
    ];
    for (const [r, msg] of bad)
      assert.throws(
        () => checkRule(r),
        (e: unknown) => e instanceof AclInputError && msg.test((e as Error).message),
      );
  });

  it('has one canonical form: checked, sorted, without duplicates; it survives CBOR and the file', () => {
    const rules = [
      allow('bob', 'publish', 'x.>'),
      deny('*', 'ref.delete', 'ref.main'),
      allow('bob', 'publish', 'x.>'),
      allow('role:agent', 'shadow.*', 'sws.*'),
    ];
    const c = canonicalRules(rules);
    assert.equal(c.length, 3);
    assert.deepEqual(canonicalRules([...rules].reverse()), c);
    assert.deepEqual(decodeRules(encodeRules(c)), c);
    assert.deepEqual(parseRulesFile(rulesFileText(c), 'acl.json'), c);
    assert.throws(() => parseRulesFile('{"version":2,"rules":[]}', 'acl.json'), AclInputError);
    assert.throws(() => parseRulesFile('{', 'acl.json'), AclInputError);
  });

  it('matches a subscription pattern only when the rule covers all of it', () => {
    assert.equal(patternCovers('jit.>', 'jit.sws.*.status'), true);
    assert.equal(patternCovers('jit.sws.*.status', 'jit.>'), false);
    assert.equal(patternCovers('jit.sws.*.status', `jit.sws.${SWS}.status`), true);
    assert.equal(patternCovers('jit.sws.*.*', 'jit.sws.*.>'), false);
    assert.equal(patternCovers('jit.*', 'jit.*'), true);
    assert.equal(patternCovers('>', 'a'), true);
    assert.equal(patternCovers('a.b', 'a'), false);
  });
});

describe('ACL decisions', () => {
  it('lets members into their SWS and needs an explicit grant for any other', () => {
    const p = policy();
    assert.equal(p.decide(bob, 'shadow.apply_patch', `sws.${SWS}`).allowed, true);
    assert.equal(p.decide(bob, 'publish', `jit.sws.${SWS}.patch`).allowed, true);
    assert.equal(p.decide(bob, 'subscribe', `jit.sws.${SWS}.>`).allowed, true);
    const other = p.decide(bob, 'shadow.read', `sws.${OTHER}`);
    assert.equal(other.allowed, false);
    assert.match(other.reason, /not a member/);
    assert.equal(p.decide(bob, 'subscribe', 'jit.sws.>').allowed, false);
    assert.equal(p.decide(bob, 'subscribe', 'jit.sws.*.status').allowed, false);
    // an explicit grant opens them
    const g = policy([
      allow('bob', 'subscribe', 'jit.sws.>'),
      allow('bob', 'shadow.read', `sws.${OTHER}`),
    ]);
    assert.equal(g.decide(bob, 'subscribe', 'jit.sws.>').allowed, true);
    assert.equal(g.decide(bob, 'subscribe', 'jit.sws.*.status').allowed, true);
    assert.equal(g.decide(bob, 'shadow.read', `sws.${OTHER}`).allowed, true);
    assert.equal(g.decide(bob, 'shadow.commit', `sws.${OTHER}`).allowed, false);
  });

  it('lets deny win over any allow, and over a role default', () => {
    const p = policy([
      allow('bob', 'publish', 'team.>'),
      deny('bob', 'publish', 'team.secret'),
      deny('role:agent', 'ref.delete', 'ref.main'),
      deny('*', 'shadow.commit', `sws.${SWS}`),
    ]);
    assert.equal(p.decide(bob, 'publish', 'team.chat').allowed, true);
    const d = p.decide(bob, 'publish', 'team.secret');
    assert.equal(d.allowed, false);
    assert.match(d.reason, /deny\(bob, publish, team\.secret\)/);
    assert.equal(p.decide(bob, 'ref.delete', 'ref.main').allowed, false);
    assert.equal(p.decide(bob, 'ref.delete', 'ref.dev').allowed, true);
    assert.equal(p.decide(bob, 'shadow.commit', `sws.${SWS}`).allowed, false);
    assert.equal(p.decide(root, 'shadow.commit', `sws.${SWS}`).allowed, false);
  });

  it('never lets anyone but the kernel publish on kernel topics, whatever the rules say', () => {
    const p = policy([allow('*', 'publish', '>')]);
    for (const who of [bob, llm, root]) {
      assert.equal(p.decide(who, 'publish', 'jit.kernel.events').allowed, false);
      assert.equal(p.decide(who, 'publish', `jit.sws.${SWS}.status`).allowed, false);
    }
    assert.equal(
      p.decide({ agent: 'jit-kernel', role: 'kernel' }, 'publish', 'jit.kernel.events').allowed,
      true,
    );
  });

  it('keeps admin-only ops for admins: no rule grants them to an agent', () => {
    const p = policy([allow('bob', '>', '>')]);
    for (const op of ['agent.add', 'agent.remove', 'acl.set', 'jit.fsck'])
      assert.equal(p.decide(bob, op, op.startsWith('acl') ? 'acl' : 'trust').allowed, false, op);
    assert.equal(p.decide(root, 'acl.set', 'acl').allowed, true);
  });

  it('keeps a restricted agent in its sandbox: rules may narrow it, never widen it', () => {
    const p = policy([allow('llm', '>', '>'), deny('llm', 'shadow.annotate', '>')]);
    assert.equal(p.decide(llm, 'publish', `jit.sws.${SWS}.patch`).allowed, true);
    assert.equal(p.decide(llm, 'publish', `jit.sws.${SWS}.analyze`).allowed, true);
    assert.equal(p.decide(llm, 'subscribe', `jit.sws.${SWS}.status`).allowed, true);
    assert.equal(p.decide(llm, 'shadow.apply_patch', `sws.${SWS}`).allowed, true);
    assert.equal(p.decide(llm, 'shadow.annotate', `sws.${SWS}`).allowed, false, 'narrowed');
    for (const [action, resource] of [
      ['publish', `jit.sws.${SWS}.commit`],
      ['publish', `jit.sws.${SWS}.discard`],
      ['publish', `jit.sws.${OTHER}.patch`],
      ['publish', 'team.chat'],
      ['subscribe', 'jit.kernel.events'],
      ['subscribe', 'jit.sws.>'],
      ['shadow.commit', `sws.${SWS}`],
      ['shadow.discard', `sws.${SWS}`],
      ['shadow.create', 'ref.main'],
      ['shadow.apply_patch', `sws.${OTHER}`],
      ['ref.set', 'ref.main'],
      ['dag.get_node', 'dag'],
      ['agent.add', 'trust'],
      ['acl.set', 'acl'],
    ] as const)
      assert.equal(p.decide(llm, action, resource).allowed, false, `${action} ${resource}`);
    assert.throws(() => p.check(llm, 'shadow.commit', `sws.${SWS}`), AclDeniedError);
  });

  it('forgets cached decisions when the rules change, and sees membership as it is now', () => {
    let members = new Set<string>();
    const p = new Policy((sws, agent) => sws === SWS && members.has(agent));
    assert.equal(p.decide(bob, 'shadow.read', `sws.${SWS}`).allowed, false);
    members = new Set(['bob']);
    assert.equal(p.decide(bob, 'shadow.read', `sws.${SWS}`).allowed, true);
    p.setRules([deny('bob', 'shadow.read', '>')]);
    assert.equal(p.decide(bob, 'shadow.read', `sws.${SWS}`).allowed, false);
    p.setRules([]);
    assert.equal(p.decide(bob, 'shadow.read', `sws.${SWS}`).allowed, true);
  });

  it('decides the same whatever order the rules come in (seeded)', () => {
    const seed = testSeed();
    const r = rng(seed);
    const whos = ['bob', 'llm', 'role:agent', 'role:restricted', '*'];
    const actions = ['publish', 'subscribe', 'shadow.*', 'ref.>', 'shadow.read', '>'];
    const resources = [
      '>',
      'team.>',
      'team.chat',
      `sws.${OTHER}`,
      'sws.*',
      'ref.main',
      `jit.sws.${OTHER}.>`,
    ];
    const rules = Array.from({ length: 40 }, () => ({
      effect: r.next() < 0.3 ? ('deny' as const) : ('allow' as const),
      who: r.pick(whos),
      action: r.pick(actions),
      resource: r.pick(resources),
    }));
    const shuffled = [...rules].sort(() => r.next() - 0.5);
    const a = policy(rules);
    const b = policy(shuffled);
    const asks = ['publish', 'subscribe', 'shadow.read', 'shadow.commit', 'ref.set'];
    const on = [
      'team.chat',
      `sws.${OTHER}`,
      `sws.${SWS}`,
      'ref.main',
      `jit.sws.${OTHER}.patch`,
      'x',
    ];
    for (const who of [bob, llm])
      for (const act of asks)
        for (const res of on)
          assert.deepEqual(
            b.decide(who, act, res),
            a.decide(who, act, res),
            replayHint(seed, 'policy/acl'),
          );
    assert.ok(ACTIONS.length > 30);
  });
});
