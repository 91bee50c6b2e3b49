/**
 * The 9 Codex and the security levels (issue 8, build items 5 and 6): one test per rule, each
 * against the real pipeline, logging to a real kernel's audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  approve,
  Codex,
  type CodexOptions,
  type CodexRefusal,
  type Executor,
  REDACTED,
  redact,
} from '../../src/governance/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import { createPacket, type JitnaPacket, type JsonMap, signPacket } from '../../src/jitna/index.js';
import { type AuditEvent, Kernel } from '../../src/kernel/index.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-codex-');
const names = ['planner', 'worker', 'approver', 'outsider'] as const;
const keys = Object.fromEntries(
  names.map((n, i) => [n, KeyPair.fromSeed(new Uint8Array(32).fill(60 + i))]),
);
const trust = TrustStore.memory(
  names
    .filter((n) => n !== 'outsider')
    .map((n) => ({ agent: n, publicKey: keys[n]!.publicKey, role: 'agent' as const })),
);
const worker: Executor = {
  id: 'worker',
  role: 'agent',
  securityLevel: 4,
  actions: ['review', 'fix', 'rotate'],
};

let kernel: Kernel;
const sink = {
  append: (e: AuditEvent) => kernel.appendAudit(e, 'worker'),
};
before(async () => {
  kernel = await Kernel.open(await tmp());
});
after(async () => {
  await kernel.close();
});

const packet = (
  payload: JsonMap,
  o: { sign?: boolean; ttlMs?: number; now?: number } = {},
): JitnaPacket => {
  const p = createPacket({
    source: 'planner',
    target: 'worker',
    type: 'intent_request',
    payload,
    ...(o.now !== undefined ? { now: o.now } : {}),
  });
  return o.sign === false
    ? p
    : signPacket(p, keySigner('planner', keys.planner!), {
        ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}),
        ...(o.now !== undefined ? { now: o.now } : {}),
      });
};
const codex = (over: Partial<CodexOptions> = {}) =>
  new Codex({ executor: worker, keys: trust, audit: sink, ...over });
const refusedBy = (r: CodexRefusal | undefined): string | number | undefined => r?.rule;

describe('the 9 Codex', () => {
  it('rule 1: nothing that changes security settings', () => {
    const c = codex();
    assert.equal(c.admit({ packet: packet({ action: 'review', paths: ['src/a.ts'] }) }), undefined);
    for (const payload of [
      { action: 'change-acl' },
      { action: 'review', ops: ['acl.set'] },
      { action: 'review', ops: ['agent.add'] },
      { action: 'fix', paths: ['.jit/acl.json'] },
      { action: 'fix', paths: ['deploy/.env'] },
      { action: 'fix', paths: ['keys/admin.key'] },
      { action: 'fix', paths: ['home/.ssh/authorized_keys'] },
    ] as JsonMap[]) {
      const r = c.admit({ packet: packet(payload) });
      assert.equal(refusedBy(r), 1, JSON.stringify(payload));
      assert.equal(r!.name, 'no-security-changes');
    }
  });

  it('rule 2: the signature is checked first, before anything else', () => {
    const c = codex();
    const unsigned = packet({ action: 'change-acl' }, { sign: false });
    assert.equal(
      refusedBy(c.admit({ packet: unsigned })),
      2,
      'refused for its signature, not rule 1',
    );
    const signed = packet({ action: 'review' });
    const tampered = { ...signed, payload: { action: 'fix' } };
    const r = c.admit({ packet: tampered });
    assert.equal(refusedBy(r), 2);
    assert.match(r!.reason, /bad-signature/);
    const forged = signPacket(
      createPacket({
        source: 'outsider',
        target: 'worker',
        type: 'intent_request',
        payload: { action: 'review' },
      }),
      keySigner('outsider', keys.outsider!),
    );
    assert.match(c.admit({ packet: forged })!.reason, /unknown-sender/);
    // a verdict given for another packet is not taken
    const other = packet({ action: 'review' });
    assert.match(
      c.admit({ packet: signed, verdict: { ok: true, packet: other, coverage: 'full' } })!.reason,
      /for another packet/,
    );
  });

  it('rule 3: payload, rate, time and memory limits, the packet tightening the executor’s', async () => {
    const c = codex({ limits: { ratePerMinute: 3 } });
    const big = packet({
      action: 'review',
      blob: 'x'.repeat(3000),
      constraints: { max_payload_bytes: 2000 },
    });
    assert.match(c.admit({ packet: big })!.reason, /over the limit of 2000/);
    const rated = codex({ limits: { ratePerMinute: 2 } });
    assert.equal(rated.admit({ packet: packet({ action: 'review' }) }), undefined);
    assert.equal(rated.admit({ packet: packet({ action: 'review' }) }), undefined);
    const third = rated.admit({ packet: packet({ action: 'review' }) });
    assert.equal(refusedBy(third), 3);
    assert.match(third!.reason, /2 operations in the last minute/);
    const slow = packet({ action: 'review', constraints: { max_time_ms: 50 } });
    let sawAbort = false;
    const t0 = performance.now();
    const out = await c.execute(
      { packet: slow },
      (_t, { signal }) =>
        new Promise<JsonMap>((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
          });
          setTimeout(() => resolve({ late: true }), 2000).unref();
        }),
    );
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /ran past 50 ms/);
    assert.ok(
      performance.now() - t0 < 1500,
      'the pipeline answered at the limit, not when the work ended',
    );
    assert.equal(sawAbort, true, 'the work was told to stop');
    const hog = packet({ action: 'review', constraints: { max_memory_mb: 16 } });
    const held: number[][] = [];
    const mem = await c.execute({ packet: hog }, async () => {
      for (let i = 0; i < 64; i++) {
        held.push(new Array(256 * 1024).fill(i));
        await new Promise((r) => setTimeout(r, 2));
      }
      return { done: held.length };
    });
    assert.equal(mem.ok, false);
    assert.match(mem.ok ? '' : mem.reason, /grew the heap by \d+ MiB, over 16 MiB/);
    held.length = 0;
  });

  it('rule 4: every decision and outcome is logged; level ≥ 4 work waits for its entry and fails closed', async () => {
    const before = kernel.auditHead()?.seq ?? -1;
    const c = codex();
    const p = packet({ action: 'review' });
    assert.equal(c.admit({ packet: p }), undefined);
    const out = await c.execute({ packet: p }, () => ({ findings: 2 }));
    assert.deepEqual(out, { ok: true, result: { findings: 2 } });
    c.admit({ packet: packet({ action: 'change-acl' }) });
    await c.logged();
    const log = kernel
      .auditLog({ from: before + 1 })
      .entries.map((e) => `${e.event.decision}:${e.event.action}`);
    assert.deepEqual(log, ['admitted:review', 'completed:review', 'refused:change-acl']);
    // level 4: the entry first; a trail that cannot be written stops the work
    let ran = false;
    const l4 = packet({ action: 'fix', constraints: { security_level: 4 } });
    const broken = codex({ audit: { append: () => Promise.reject(new Error('disk full')) } });
    const r = await broken.execute({ packet: l4 }, () => {
      ran = true;
      return {};
    });
    assert.equal(ran, false);
    assert.equal(r.ok ? undefined : r.refusal?.rule, 4);
    assert.match(r.ok ? '' : r.reason, /disk full/);
    // a codex without an audit trail is not made at all
    assert.throws(() => codex({ audit: undefined as never }), /logs every operation \(rule 4\)/);
    const seq = kernel.auditHead()!.seq;
    assert.equal((await c.execute({ packet: l4 }, () => ({ fixed: true }))).ok, true);
    const entries = kernel.auditLog({ from: seq + 1 }).entries.map((e) => e.event.decision);
    assert.deepEqual(entries, ['executing', 'completed']);
  });

  it('rule 5: secrets are redacted from results and from the log', async () => {
    const c = codex();
    const secret = 'hunter2-very-secret';
    const p = packet({ action: 'review', note: `password=${secret}` });
    const seq = kernel.auditHead()?.seq ?? -1;
    c.admit({ packet: p });
    const out = await c.execute({ packet: p }, () => ({
      password: secret,
      nested: { api_key: 'abc', items: [`token: ${secret}`] },
      pem: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
      ok: true,
    }));
    assert.ok(out.ok);
    assert.deepEqual(out.result, {
      password: REDACTED,
      nested: { api_key: REDACTED, items: [`token: ${REDACTED}`] },
      pem: REDACTED,
      ok: true,
    });
    const failing = await c.execute({ packet: packet({ action: 'review' }) }, () => {
      throw new Error(`could not log in with password=${secret}`);
    });
    assert.match(failing.ok ? '' : failing.reason, /password=\[REDACTED\]/);
    const logged = JSON.stringify(kernel.auditLog({ from: seq + 1 }).entries);
    assert.ok(!logged.includes(secret), 'no secret in the audit trail');
    assert.deepEqual(redact({ github: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }), {
      github: REDACTED,
    });
  });

  it('rule 6: every input is validated', () => {
    const c = codex();
    const cases: [JsonMap, RegExp][] = [
      [{ paths: ['a'] }, /names no action/],
      [{ action: 'review', paths: [1] }, /paths must be strings/],
      [{ action: 'review', constraints: { max_cpu: 1 } }, /unknown constraint "max_cpu"/],
      [{ action: 'review', constraints: { security_level: 9 } }, /security_level = 9 is not valid/],
      [
        { action: 'review', jitna: { I: '', D: {}, delta: '', A: '', R: '', M: {} } },
        /the intent is not valid: I must not be empty/,
      ],
    ];
    for (const [payload, msg] of cases) {
      const r = c.admit({ packet: packet(payload) });
      assert.equal(refusedBy(r), 6, JSON.stringify(payload));
      assert.match(r!.reason, msg);
    }
  });

  it('rule 7: a failure ends gracefully in FAIL with a reason, never a throw', async () => {
    const c = codex();
    const p = packet({ action: 'review' });
    const thrown = await c.execute({ packet: p }, () => {
      throw new Error('boom');
    });
    assert.deepEqual(thrown, { ok: false, reason: 'the work failed: boom' });
    const rejected = await c.execute({ packet: p }, () => Promise.reject('not an error'));
    assert.deepEqual(rejected, { ok: false, reason: 'the work failed: not an error' });
    const nothing = await c.execute({ packet: p }, () => 42 as unknown as JsonMap);
    assert.match(nothing.ok ? '' : nothing.reason, /returned no result map/);
  });

  it('rule 8: a command that expired, even after admission, is refused', async () => {
    let now = Date.now();
    const c = codex({ now: () => now });
    const p = packet({ action: 'review' }, { ttlMs: 1000, now });
    const verdict = { ok: true as const, packet: p, coverage: 'full' as const };
    assert.equal(c.admit({ packet: p, verdict }), undefined);
    now += 1500;
    const late = c.admit({ packet: p, verdict });
    assert.equal(refusedBy(late), 8);
    let ran = false;
    const r = await c.execute({ packet: p }, () => {
      ran = true;
      return {};
    });
    assert.equal(ran, false);
    assert.match(r.ok ? '' : r.reason, /codex rule 8 \(expiry\): the command expired/);
  });

  it('rule 9: only what the role, the card and the negotiation granted', () => {
    const c = codex();
    const r = c.admit({ packet: packet({ action: 'deploy' }) });
    assert.equal(refusedBy(r), 9);
    assert.match(r!.reason, /worker does not offer deploy \(it offers review, fix, rotate\)/);
    const g = c.admit({ packet: packet({ action: 'fix' }), granted: { action: 'review' } });
    assert.match(g!.reason, /the negotiation granted review, not fix/);
    const sandboxed = codex({ executor: { ...worker, role: 'restricted' } });
    const l3 = sandboxed.admit({
      packet: packet({ action: 'fix', constraints: { security_level: 3 } }),
    });
    assert.equal(refusedBy(l3), 'level');
    assert.match(l3!.reason, /above what worker may do \(2, restricted\)/);
  });
});

describe('security levels', () => {
  const top: Executor = { ...worker, securityLevel: 5 };
  const l5 = (payload: JsonMap, approver?: string): JitnaPacket => {
    let p = createPacket({ source: 'planner', target: 'worker', type: 'intent_request', payload });
    if (approver !== undefined) p = approve(p, keySigner(approver, keys[approver as 'approver']!));
    return signPacket(p, keySigner('planner', keys.planner!));
  };

  it('never runs work above the executor’s level, whatever the packet says', () => {
    const c = codex({ actionLevels: { rotate: 5 } });
    const r = c.admit({ packet: packet({ action: 'fix', constraints: { security_level: 5 } }) });
    assert.match(r!.reason, /level 5 work, above what worker may do \(4, agent\)/);
    // the packet says 1; the executor knows rotate is level 5
    const understated = c.admit({
      packet: packet({ action: 'rotate', constraints: { security_level: 1 } }),
    });
    assert.match(understated!.reason, /level 5 work/);
  });

  it('level 5 needs an approval signed by a second, different approver', () => {
    const c = codex({ executor: top });
    const payload = { action: 'rotate', constraints: { security_level: 5 } };
    assert.match(
      c.admit({ packet: l5(payload) })!.reason,
      /needs an approval signed by a second approver/,
    );
    assert.match(
      c.admit({ packet: l5(payload, 'planner') })!.reason,
      /the packet's own source: a second approver must sign/,
    );
    assert.equal(c.admit({ packet: l5(payload, 'approver') }), undefined);
    // an approval moved to another packet does not hold
    const approved = l5(payload, 'approver');
    const other = signPacket(
      {
        ...createPacket({
          source: 'planner',
          target: 'worker',
          type: 'intent_request',
          payload: { ...payload, paths: ['x'] },
        }),
        payload: { ...payload, paths: ['x'], approval: approved.payload.approval! },
      },
      keySigner('planner', keys.planner!),
    );
    assert.match(c.admit({ packet: other })!.reason, /approval signature does not match/);
    const restricted = codex({ executor: top, approvers: ['someone-else'] });
    assert.match(
      restricted.admit({ packet: l5(payload, 'approver') })!.reason,
      /approver is not one of the approvers/,
    );
  });
});
