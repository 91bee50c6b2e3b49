/**
 * The cost of the ACL and the rate limiter on the unsigned in-process plane (issue 6 goal: at most
 * 10% with 1,000 rules): the same publish -> deliver loop with and without the subscriber asking
 * the policy (1,000 rules) and charging the limiter for every message, rounds interleaved.
 */
import { MemoryBroker, Plane } from '../src/mp/index.js';
import { type AclRule, Limiter, Policy } from '../src/policy/index.js';
import { planeThroughput } from './plane-loops.js';

export interface AclFigure {
  readonly withChecks: number;
  readonly without: number;
  readonly rules: number;
  readonly uncachedPerSec: number;
}

/** 1,000 rules of the shapes people write: per-agent grants and denials, role rules. */
export function thousandRules(): AclRule[] {
  const out: AclRule[] = [];
  for (let i = 0; i < 450; i++) {
    out.push({ effect: 'allow', who: `agent${i}`, action: 'publish', resource: `team.${i}.>` });
    out.push({ effect: 'deny', who: `agent${i}`, action: 'subscribe', resource: `secret.${i}.*` });
  }
  for (let i = 0; i < 100; i++)
    out.push({ effect: 'deny', who: 'role:agent', action: 'ref.delete', resource: `ref.rel-${i}` });
  return out;
}

async function round(checks: boolean, n: number): Promise<number> {
  const broker = new MemoryBroker();
  const policy = new Policy(() => false, thousandRules());
  const limiter = new Limiter({ roles: { agent: { messages: { rate: 1e9, burst: 1e9 } } } });
  const pub = await Plane.open({ transport: broker.connect(), sender: 'pub' });
  const sub = await Plane.open({
    transport: broker.connect(),
    sender: 'sub',
    ...(checks
      ? {
          authorize: (sender: string, topic: string, bytes: number) => {
            const who = { agent: sender, role: 'agent' as const };
            const d = policy.decide(who, 'publish', topic);
            if (!d.allowed) return { refuse: 'denied' as const, detail: d.reason };
            limiter.charge(who, 1, bytes, [topic]);
            return undefined;
          },
        }
      : {}),
  });
  return planeThroughput(pub, sub, n);
}

export async function aclBench(n = 200_000): Promise<AclFigure> {
  await round(true, 20_000);
  await round(false, 20_000);
  const w: number[] = [];
  const wo: number[] = [];
  for (let r = 0; r < 3; r++) {
    wo.push(await round(false, n));
    w.push(await round(true, n));
  }
  // decisions when nothing is cached (every topic new): the worst case
  const policy = new Policy(() => false, thousandRules());
  const k = 100_000;
  const t0 = performance.now();
  for (let i = 0; i < k; i++)
    policy.decide({ agent: `agent${i % 450}`, role: 'agent' }, 'publish', `team.${i}.x`);
  const uncachedPerSec = k / ((performance.now() - t0) / 1000);
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  return { withChecks: med(w), without: med(wo), rules: thousandRules().length, uncachedPerSec };
}
