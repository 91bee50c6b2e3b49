/**
 * The audit trail end to end (issue 8, build item 4): JITNA transactions recorded through jitd,
 * `jit audit log | verify | replay`, an export file edited, cut, reordered or truncated and each
 * change named, and a recorded decision that does not replay reported at its entry.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { type Jitd, startJitd } from '../../src/daemon/jitd.js';
import {
  fdia,
  instantiate,
  intakeKey,
  questionDigest,
  replayAudit,
  signVerdict,
  signVote,
  TRANSACTION_EVENT,
  type TransactionEvent,
} from '../../src/governance/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import type { AuditEntry } from '../../src/kernel/index.js';
import type { RpcClient } from '../../src/rpc/index.js';
import { loginAs, registerAgents } from '../helpers/agents.js';
import { capture } from '../helpers/io.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-audit-e2e-');
const names = ['coord', 'v1', 'v2', 'v3', 'v4'] as const;
const keys = Object.fromEntries(
  names.map((n, i) => [n, KeyPair.fromSeed(new Uint8Array(32).fill(40 + i))]),
);
const trust = TrustStore.memory(
  names.map((n) => ({ agent: n, publicKey: keys[n]!.publicKey, role: 'agent' as const })),
);

/** A transaction's record: the intake, the gate, a tier-4 verdict, the outcome. */
function transaction(tx: string, over: Partial<TransactionEvent> = {}): TransactionEvent {
  const intent = instantiate('code-review', { data: { change: `change ${tx}` } });
  const context = { repo: 'demo', tx };
  const gate = fdia({ D: 0.9, I: 1, A: 1 });
  const q = questionDigest({ id: tx, subject: 'snapshot', text: 'Is the review right?' });
  const voters = ['v1', 'v2', 'v3', 'v4'];
  const votes = voters.map((v) =>
    signVote(q, keySigner(v, keys[v]!), { model: `m-${v}`, vote: 'agree' }),
  );
  return {
    type: TRANSACTION_EVENT,
    tx,
    outcome: 'completed',
    intent,
    context,
    intake_hash: intakeKey(intent, context),
    fdia: gate,
    agents: [{ id: 'v1', key_id: trust.get('v1')!.fingerprint }],
    sws: 'a'.repeat(32),
    snapshot: 'b'.repeat(64),
    verdict: signVerdict(
      { question: q, tier: '4', voters, votes },
      keySigner('coord', keys.coord!),
      trust,
    ),
    ...over,
  };
}

describe('replaying recorded decisions', () => {
  const entry = (seq: number, event: TransactionEvent): AuditEntry =>
    ({ seq, previous: null, by: 'coord', event: event as never, digest: '' }) as AuditEntry;

  it('re-runs every decision and finds them the same', () => {
    const r = replayAudit([entry(0, transaction('t1')), entry(1, transaction('t2'))], trust);
    assert.deepEqual(r, { entries: 2, transactions: 2 });
  });

  it('reports the first decision that comes out differently', () => {
    const t = transaction('t1');
    const cases: [Partial<TransactionEvent>, string][] = [
      [{ context: { repo: 'other' } }, 'intake'],
      [{ fdia: { ...t.fdia, F: 0.95 } }, 'fdia'],
      [{ fdia: { ...t.fdia, allowed: false } }, 'fdia'],
      [{ fdia: fdia({ D: 0.3, I: 1, A: 1 }) }, 'gate'],
      [{ outcome: 'blocked' }, 'gate'],
      [
        {
          verdict: {
            ...t.verdict!,
            agree: 4,
            passed: true,
            reason: 'passed',
            votes: t.verdict!.votes.slice(0, 2),
          },
        },
        'verdict',
      ],
      [{ verdict: undefined }, 'outcome'],
      [{ snapshot: undefined }, 'outcome'],
    ];
    for (const [over, decision] of cases) {
      const ev = { ...t, ...over } as TransactionEvent;
      const r = replayAudit([entry(0, transaction('t0')), entry(1, ev)], trust);
      assert.equal(r.divergence?.decision, decision, JSON.stringify(over).slice(0, 80));
      assert.equal(r.divergence?.seq, 1);
    }
    // a gate that blocked, recorded as blocked with no work: that replays
    const blocked = { ...t, fdia: fdia({ D: 0.3, I: 1, A: 1 }), outcome: 'blocked' as const };
    const { agents: _a, sws: _s, snapshot: _n, verdict: _v, ...noWork } = blocked;
    assert.equal(replayAudit([entry(0, noWork as TransactionEvent)], trust).divergence, undefined);
  });
});

describe('jit audit', () => {
  let jitd: Jitd;
  let coord: RpcClient;
  const run = async (...argv: string[]) => {
    const io = capture();
    const code = await main([...argv, '--home', jitd.home], io);
    return { code, out: io.stdout, err: io.stderr };
  };

  before(async () => {
    jitd = await startJitd({ home: await tmp() });
    await registerAgents(
      jitd.home,
      names.map((n) => [n, keys[n]!] as const),
    );
    coord = await loginAs(jitd.home, 'coord', keys.coord!);
  });
  after(async () => {
    await coord.close();
    await jitd.stop();
  });

  it('logs, verifies and replays what jitd recorded; names each change to an export', async () => {
    assert.match((await run('audit', 'verify')).out, /audit trail ok: 0 entries/);
    for (const tx of ['t1', 't2', 't3', 't4'])
      await coord.call('audit.append', { event: transaction(tx) as never });
    const note = await run('audit', 'append', '{"type":"note","text":"by hand"}');
    assert.equal(note.code, 0, note.err);
    assert.match(note.out, /^entry 4 [0-9a-f]{64}\n$/);
    const log = await run('audit', 'log');
    assert.match(log.out, /^0\t[0-9a-f]{16}\tcoord\tjitna\.transaction\t/);
    assert.match(log.out, /\n4\t[0-9a-f]{16}\tadmin\tnote\t/);
    const ok = await run('audit', 'verify', '--json');
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.out).count, 5);
    const replay = await run('audit', 'replay');
    assert.equal(replay.code, 0, replay.out);
    assert.match(
      replay.out,
      /replayed 4 transactions in 5 entries from 0: every decision the same/,
    );
    assert.match(
      (await run('audit', 'replay', '--from', '2')).out,
      /replayed 2 transactions in 3 entries from 2/,
    );

    const dir = await tmp();
    const exported = join(dir, 'audit.json');
    await writeFile(exported, (await run('audit', 'log', '--json')).out);
    assert.equal((await run('audit', 'verify', '--file', exported)).code, 0);
    const base = JSON.parse(await readFile(exported, 'utf8')) as {
      entries: Record<string, unknown>[];
    };
    const tampered = async (entries: unknown[]) => {
      const f = join(dir, 'tampered.json');
      await writeFile(f, JSON.stringify({ entries }));
      return run('audit', 'verify', '--file', f);
    };
    const e = base.entries;
    const edited = e.map((x, i) =>
      i === 1 ? { ...x, event: { ...(x.event as object), outcome: 'failed' } } : x,
    );
    const cases: [unknown[], RegExp][] = [
      [edited, /audit trail altered at entry 1/],
      [[...e.slice(0, 2), ...e.slice(3)], /audit trail removed at entry 2/],
      [[e[0], e[2], e[1], e[3], e[4]], /audit trail reordered at entry 2/],
      [e.slice(0, 3), /audit trail truncated at entry 3/],
      [
        e.map((x, i) => (i === 2 ? { ...x, sig: undefined } : x)),
        /audit trail unsigned at entry 2/,
      ],
      [e.map((x, i) => (i === 3 ? { ...x, sig: e[0]!.sig } : x)), /audit trail forged at entry 3/],
    ];
    for (const [entries, msg] of cases) {
      const r = await tampered(entries);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, msg);
    }

    // a record whose decision does not replay: the gate recorded as allowing what it blocks
    const lie = transaction('t5', { fdia: { ...fdia({ D: 0.3, I: 1, A: 1 }), allowed: true } });
    await coord.call('audit.append', { event: lie as never });
    const bad = await run('audit', 'replay', '--from', '3');
    assert.equal(bad.code, 1);
    assert.match(
      bad.out,
      /divergence at entry 5 \(transaction t5\), fdia: the FDIA gate decides differently/,
    );
    const badJson = JSON.parse((await run('audit', 'replay', '--json')).out);
    assert.deepEqual([badJson.divergence.seq, badJson.divergence.decision], [5, 'fdia']);
  });

  it('says what is wrong with its arguments', async () => {
    assert.equal((await run('audit')).code, 2);
    assert.equal((await run('audit', 'log', '--from', 'x')).code, 2);
    assert.equal((await run('audit', 'append', '{nope')).code, 2);
    const notMap = await run('audit', 'append', '[1]');
    assert.equal(notMap.code, 4);
    assert.match(notMap.err, /an audit event is a map/);
    const missing = await run('audit', 'verify', '--file', '/nonexistent/audit.json');
    assert.notEqual(missing.code, 0);
    assert.match((await run('audit', '--help')).out, /jit audit — the audit trail/);
  });
});
