import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CborValue } from '../../src/codec/index.js';
import { LiveModel, type Numbered } from '../../src/dashboard/index.js';

const step = (
  from: string,
  to: string,
  conversation: string,
  kind: string,
  terms?: Record<string, CborValue>,
) => ({
  topic: `jit.jitna.agent.${to}`,
  sender: from,
  payload: {
    source_agent_id: from,
    target_agent_id: to,
    correlation_id: conversation,
    payload: { negotiation: { kind, ...(terms ? { terms } : {}) } },
  },
});

function model(o: ConstructorParameters<typeof LiveModel>[0] = {}) {
  let now = 1_000_000;
  const m = new LiveModel({ ...o, now: () => now });
  const events: Numbered[] = [];
  m.listen((e) => events.push(e));
  return { m, events, advance: (ms: number) => (now += ms) };
}

describe('the dashboard live model', () => {
  it('follows a conversation through its performatives and keeps it once finished', () => {
    const { m, events } = model();
    m.message(step('planner', 'coder', 'c1', 'propose', { action: 'code.write' }));
    assert.deepEqual(
      m.tick().negotiations.map((n) => [n.state, n.initiator, n.responder, n.action]),
      [['proposed', 'planner', 'coder', 'code.write']],
    );
    m.message(step('coder', 'planner', 'c1', 'accept'));
    assert.equal(m.tick().negotiations[0]!.state, 'agreed');
    m.message(step('coder', 'planner', 'c1', 'complete'));
    const t = m.tick();
    assert.equal(t.open, 0);
    assert.deepEqual(
      t.negotiations.map((n) => [n.state, n.steps]),
      [['completed', 3]],
    );
    assert.deepEqual(
      events.map((e) => [e.n, e.type]),
      [
        [1, 'negotiation'],
        [2, 'negotiation'],
        [3, 'negotiation'],
      ],
    );
    // a late duplicate of the final step does not reopen it
    m.message(step('coder', 'planner', 'c1', 'complete'));
    assert.equal(m.tick().open, 0);
  });

  it('shows a conversation nobody finishes as expired, and ignores what is not a negotiation', () => {
    const { m, advance } = model({ expireMs: 5000 });
    m.message(step('a', 'b', 'c2', 'propose'));
    m.message({ topic: 'jit.jitna.agent.b', sender: 'a', payload: { hello: 1 } });
    m.message(step('a', 'b', 'c3', 'dance'));
    assert.equal(m.tick().open, 1);
    advance(6000);
    const t = m.tick();
    assert.equal(t.open, 0);
    assert.equal(t.negotiations[0]!.state, 'expired');
  });

  it('keeps agents bounded, with their cards, rates and silence', () => {
    const { m, advance, events } = model({ maxAgents: 3 });
    const card = {
      name: 'lint',
      security_level: 2,
      status: 'healthy',
      supported_actions: ['lint'],
    };
    m.message({ topic: 'jit.jitna.registry', sender: 'a1', payload: { payload: { card } } });
    m.message({ topic: 'jit.jitna.registry', sender: 'a1', payload: { payload: { card } } });
    assert.equal(events.filter((e) => e.type === 'agent').length, 1); // joined once
    for (const s of ['a2', 'a3', 'a4']) m.message({ topic: 'x.y', sender: s, payload: null });
    let t = m.tick();
    assert.deepEqual(
      t.agents.map((a) => a.agent),
      ['a2', 'a3', 'a4'],
    ); // a1 was heard least recently
    assert.equal(t.agents[0]!.rate, 1);
    m.message({ topic: 'jit.jitna.registry', sender: 'a4', payload: { payload: { card } } });
    t = m.tick();
    const a4 = t.agents.find((a) => a.agent === 'a4')!;
    assert.deepEqual([a4.health, a4.securityLevel, a4.rate, a4.messages], ['healthy', 2, 1, 2]);
    advance(16_000);
    assert.equal(m.tick().agents.find((a) => a.agent === 'a4')!.health, 'silent');
  });

  it("before signatures: counts a known sender's plain traffic on its claim, and sends content and new senders to be checked", () => {
    const { m } = model();
    const patch = { topic: 'jit.sws.abc.patch', sender: 'eve' };
    assert.equal(m.heard(patch), true, 'a sender not known yet: checked first');
    m.message({ ...patch, payload: null }); // what the plane hands over once it is checked
    for (let i = 0; i < 5; i++) assert.equal(m.heard(patch), false, 'known: counted, not checked');
    for (const topic of [
      'jit.jitna.registry',
      'jit.kernel.events',
      'jit.jitna.agent.bob',
      'jit.sws.abc.analyze',
    ])
      assert.equal(m.heard({ topic, sender: 'eve' }), true, `${topic}: its content is read`);
    const eve = m.tick().agents.find((a) => a.agent === 'eve')!;
    assert.deepEqual([eve.messages, eve.rate], [6, 6]);
    assert.equal(m.heard({ topic: 'jit.sws.abc.patch', sender: 'mallory' }), true);
    assert.equal(
      m.tick().agents.some((a) => a.agent === 'mallory'),
      false,
      'an unverified claim makes no agent appear',
    );
  });

  it('turns kernel calls into events, and reads nothing from calls that change nothing', () => {
    const { m, events } = model();
    m.kernelOp('shadow.create', { owner: 'x' }, { id: 's1' }, 'x');
    m.kernelOp('shadow.apply_patch', { id: 's1' }, { updated: true }, 'x');
    m.kernelOp('shadow.status', { id: 's1' }, {}, 'x');
    m.kernelOp('shadow.commit', { id: 's1' }, { ref: 'main', updated: true }, 'x');
    m.kernelOp('audit.append', {}, { seq: 4 }, 'x');
    m.kernelOp('relay.publish', {}, {}, 'x');
    assert.deepEqual(
      events.map(
        (e) => `${e.type}:${'op' in e ? e.op : 'ref' in e ? e.ref : 'seq' in e ? e.seq : ''}`,
      ),
      ['sws:create', 'sws:apply_patch', 'sws:commit', 'ref:main', 'audit:4'],
    );
  });
});
