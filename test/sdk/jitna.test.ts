/**
 * JITNA agents on the in-process plane (issue 7): discovery by heartbeat, PROPOSE → ACCEPT →
 * COMPLETE, re-routing after a rejection, a counter-offer taken or refused, failed work, and
 * packets that are forged, replayed or meant for someone else refused at the inbox.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Codex } from '../../src/governance/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import { createPacket, signPacket, stepPayload } from '../../src/jitna/index.js';
import { Kernel } from '../../src/kernel/index.js';
import { MemoryBroker, Plane } from '../../src/mp/index.js';
import {
  type Capabilities,
  inboxTopic,
  JitnaAgent,
  type JitnaAgentOptions,
  type Proposal,
  type ProposalAnswer,
} from '../../src/sdk/index.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-sdk-jitna-');
const names = ['planner', 'a1', 'a2', 'a3', 'mallory'] as const;
const keys = Object.fromEntries(names.map((n) => [n, KeyPair.generate()])) as Record<
  (typeof names)[number],
  KeyPair
>;
const trust = TrustStore.memory(
  names.map((n) => ({ agent: n, publicKey: keys[n].publicKey, role: 'agent' as const })),
);
/** Each test has a broker of its own (agents of an earlier test would answer too). */
let broker = new MemoryBroker();
const opened: { close(): Promise<void> }[] = [];
after(async () => {
  for (const x of opened.reverse()) await x.close();
});

async function agent(
  name: (typeof names)[number],
  caps?: Partial<Capabilities>,
  onProposal?: (p: Proposal) => ProposalAnswer,
  extra: Partial<JitnaAgentOptions> = {},
): Promise<JitnaAgent> {
  const plane = await Plane.open({
    transport: broker.connect(),
    sender: name,
    signer: keySigner(name, keys[name]),
    verifier: trust,
  });
  opened.push(plane);
  const a = await JitnaAgent.start({
    plane,
    signer: keySigner(name, keys[name]),
    keys: trust,
    ...extra,
    ...(caps
      ? {
          capabilities: {
            name,
            version: '1',
            supported_actions: ['analyze'],
            supported_formats: ['ts'],
            security_level: 2,
            status: 'healthy',
            load: 0.5,
            ...caps,
          },
          onProposal: onProposal ?? (() => ({ accept: true, run: (t) => ({ by: name, ...t }) })),
        }
      : {}),
  });
  opened.push(a);
  return a;
}

/** A bare plane for mallory, who speaks to agents without a JitnaAgent of her own. */
async function malloryPlane(): Promise<Plane> {
  const plane = await Plane.open({
    transport: broker.connect(),
    sender: 'mallory',
    signer: keySigner('mallory', keys.mallory),
    verifier: trust,
  });
  opened.push(plane);
  return plane;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 1000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('sdk - JITNA agents on the plane', () => {
  it('discovers by heartbeat, re-routes after a rejection, takes a counter-offer, and completes', async () => {
    const asked: string[] = [];
    await agent('a1', { load: 0.1 }, ({ from }) => {
      asked.push(`a1 by ${from}`);
      return { reject: 'busy' };
    });
    await agent('a2', { load: 0.2 }, ({ offer }) => {
      asked.push('a2');
      return {
        counter: { ...offer.terms, price: 2 },
        run: (t) => ({ done: true, price: t.price ?? null }),
      };
    });
    await agent('a3', { load: 0.9, security_level: 5 });
    const planner = await agent('planner');
    await until(() => planner.discover({ action: 'analyze' }).length === 3, 'three cards');
    assert.deepEqual(
      planner.discover({ action: 'analyze', minSecurityLevel: 2 }).map((c) => c.adapter_id),
      ['a1', 'a2', 'a3'],
    );
    const r = await planner.negotiate({
      action: 'analyze',
      terms: { files: 3 },
      acceptCounter: (t) => t.price === 2,
    });
    assert.equal(r.state, 'completed');
    assert.equal(r.agent, 'a2');
    assert.deepEqual(r.result, { done: true, price: 2 });
    assert.deepEqual(
      r.tried.map((t) => `${t.agent}:${t.state}`),
      ['a1:rejected', 'a2:completed'],
    );
    assert.deepEqual(asked, ['a1 by planner', 'a2']);
    // a counter-offer the initiator will not take ends the conversation as rejected
    const no = await planner.proposeTo('a2', {
      action: 'analyze',
      terms: { files: 1 },
      acceptCounter: () => false,
    });
    assert.equal(no.state, 'rejected');
    // PROPOSE → ACCEPT → COMPLETE with the agreed terms
    const direct = await planner.proposeTo('a3', { action: 'analyze', terms: { files: 2 } });
    assert.equal(direct.state, 'completed');
    assert.deepEqual(
      direct.result,
      { by: 'a3', files: 2, action: 'analyze' },
      'the terms name their action',
    );
    assert.deepEqual(
      direct.history.map((s) => `${s.from}:${s.kind}`),
      ['planner:propose', 'a3:accept', 'a3:complete'],
    );
  });

  it('calls for proposals: every agent bids or declines at once, the chosen bid wins, the rest are turned down', async () => {
    broker = new MemoryBroker();
    const worked: string[] = [];
    const bidder = (name: 'a1' | 'a2', price: number) =>
      agent(name, {}, ({ offer }) => ({
        counter: { ...offer.terms, price },
        run: (t) => {
          worked.push(name);
          return { by: name, price: t.price ?? null };
        },
      }));
    await bidder('a1', 9);
    await bidder('a2', 4);
    // a3 takes the terms as they are: in a call that is a bid at those terms, not a commitment
    await agent('a3', { security_level: 3 }, () => ({ accept: true, run: () => ({ by: 'a3' }) }));
    const planner = await agent('planner');
    await until(() => planner.discover({ action: 'analyze' }).length === 3, 'three cards');
    const cheapest = (bids: readonly { agent: string; terms: Record<string, unknown> }[]) =>
      [...bids].sort((x, y) => Number(x.terms.price ?? 99) - Number(y.terms.price ?? 99))[0]?.agent;
    const r = await planner.callForProposals({
      action: 'analyze',
      terms: { files: 5 },
      choose: cheapest,
    });
    assert.equal(r.state, 'completed');
    assert.equal(r.agent, 'a2');
    assert.deepEqual(r.result, { by: 'a2', price: 4 });
    assert.deepEqual(worked, ['a2'], 'only the winner worked');
    assert.deepEqual(r.tried.map((t) => `${t.agent}:${t.state}`).sort(), [
      'a1:rejected',
      'a2:completed',
      'a3:rejected',
    ]);
  });

  it('puts every proposal through its codex: refusals are rejections with the rule, work runs in its frame', async () => {
    broker = new MemoryBroker();
    const kernel = await Kernel.open(await tmp());
    opened.push(kernel);
    const codex = new Codex({
      executor: { id: 'a1', role: 'agent', securityLevel: 2, actions: ['analyze'] },
      keys: trust,
      audit: { append: (e) => kernel.appendAudit(e, 'a1') },
      limits: { timeMs: 100 },
    });
    let ran = 0;
    await agent(
      'a1',
      {},
      ({ offer }) => ({
        accept: true,
        run: async (t, { signal }) => {
          ran++;
          if (offer.terms.hang === true)
            await new Promise((r) => {
              signal.addEventListener('abort', r);
            });
          return { ok: true, token: 'sk-abcdefghijklmnopqrstuvwx', files: t.files ?? null };
        },
      }),
      { codex },
    );
    const planner = await agent('planner');
    await until(() => planner.discover({ action: 'analyze' }).length === 1, 'a1');
    const protectedPath = await planner.proposeTo('a1', {
      action: 'analyze',
      terms: { paths: ['.jit/acl.json'] },
    });
    assert.equal(protectedPath.state, 'rejected');
    assert.match(
      protectedPath.reason ?? '',
      /codex rule 1 \(no-security-changes\): \.jit\/acl\.json/,
    );
    const tooHigh = await planner.proposeTo('a1', {
      action: 'analyze',
      terms: { constraints: { security_level: 3 } },
    });
    assert.match(tooHigh.reason ?? '', /codex security level/);
    const notOffered = await planner.proposeTo('a1', { action: 'deploy', terms: {} });
    assert.match(
      notOffered.reason ?? '',
      /codex rule 9 \(least-privilege\): a1 does not offer deploy/,
    );
    assert.equal(ran, 0, 'nothing refused ran');
    const done = await planner.proposeTo('a1', { action: 'analyze', terms: { files: 2 } });
    assert.equal(done.state, 'completed');
    assert.deepEqual(done.result, { ok: true, token: '[REDACTED]', files: 2 });
    const slow = await planner.proposeTo('a1', { action: 'analyze', terms: { hang: true } });
    assert.equal(slow.state, 'failed');
    assert.match(slow.reason ?? '', /ran past 100 ms/);
    // every decision and outcome is in a1's audit trail
    assert.deepEqual(
      kernel.auditLog().entries.map((e) => `${e.event.decision}`),
      ['refused', 'refused', 'refused', 'admitted', 'completed', 'admitted', 'failed'],
    );
  });

  it('a newcomer hears every card at once, not at the next heartbeat (5 s)', async () => {
    broker = new MemoryBroker();
    await agent('a1', {});
    await agent('a2', {});
    const t0 = Date.now();
    const late = await agent('planner');
    await until(() => late.discover({ action: 'analyze' }).length === 2, 'both cards');
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
  });

  it('reports work that throws as failed', async () => {
    broker = new MemoryBroker();
    const planner = await agent('planner');
    await agent('a1', {}, () => ({
      accept: true,
      run: () => {
        throw new Error('disk full');
      },
    }));
    const n = await planner.proposeTo('a1', { action: 'analyze', terms: {} });
    assert.equal(n.state, 'failed');
    assert.equal(n.reason, 'disk full');
  });

  it('holds at most maxOpenPerPeer conversations open for one peer, and frees them as they end', async () => {
    broker = new MemoryBroker();
    const victim = await agent(
      'a3',
      {},
      ({ offer }) => ({ counter: { ...offer.terms, price: 9 }, run: () => ({}) }),
      { maxOpenPerPeer: 3, stepTimeoutMs: 300 },
    );
    const plane = await malloryPlane();
    const propose = (i: number) =>
      signPacket(
        createPacket({
          source: 'mallory',
          target: 'a3',
          type: 'negotiation',
          payload: stepPayload('propose', { offerId: 'o', offerVersion: 1, terms: { i } }),
          correlationId: `open-${i}`,
          seq: 0,
        }),
        keySigner('mallory', keys.mallory),
      );
    // countered and never answered: each stays open until its step times out
    for (let i = 0; i < 5; i++) await plane.publish(inboxTopic('a3'), propose(i) as never);
    await until(() => (victim.refused.busy ?? 0) === 2, 'two dropped');
    // once the open ones time out they are forgotten, and the peer may open more
    await new Promise((r) => setTimeout(r, 600));
    await plane.publish(inboxTopic('a3'), propose(5) as never);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(victim.refused.busy, 2, 'the sixth was taken');
  });

  it('refuses at the inbox a forged, replayed or misaddressed packet', async () => {
    broker = new MemoryBroker();
    const victim = await agent('a3', {}, () => ({ accept: true, run: () => ({}) }));
    const plane = await malloryPlane();
    const propose = (target: string) =>
      signPacket(
        createPacket({
          source: 'mallory',
          target,
          type: 'negotiation',
          payload: stepPayload('propose', { offerId: 'o', offerVersion: 1, terms: {} }),
          correlationId: `c-${target}-${Math.random()}`,
          seq: 0,
        }),
        keySigner('mallory', keys.mallory),
      );
    const before = { ...victim.refused };
    const genuine = propose('a3');
    await plane.publish(inboxTopic('a3'), genuine as never);
    await plane.publish(inboxTopic('a3'), genuine as never); // the same packet again
    await plane.publish(inboxTopic('a3'), propose('a1') as never); // for someone else
    await plane.publish(inboxTopic('a3'), { ...propose('a3'), priority: 1 } as never); // changed
    // a packet claiming a1 as its source, in mallory's envelope
    const asA1 = signPacket(
      createPacket({
        source: 'a1',
        target: 'a3',
        type: 'negotiation',
        payload: stepPayload('accept'),
        correlationId: 'x',
        seq: 0,
      }),
      keySigner('a1', keys.a1),
    );
    await plane.publish(inboxTopic('a3'), asA1 as never);
    await until(
      () =>
        (victim.refused.replayed ?? 0) > (before.replayed ?? 0) &&
        (victim.refused['wrong-audience'] ?? 0) > (before['wrong-audience'] ?? 0) &&
        (victim.refused['bad-signature'] ?? 0) > (before['bad-signature'] ?? 0) &&
        (victim.refused['not-its-sender'] ?? 0) > (before['not-its-sender'] ?? 0),
      'the refusals',
    );
  });
});
