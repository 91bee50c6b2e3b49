/**
 * The audit trail in the kernel (issue 8, build item 4): entries as a chain of provenance nodes
 * under `jit/audit`, durable and replayed, bad events refused without a change, the ref the
 * kernel's own; and `verifyAuditChain` naming the first edited, deleted, reordered or cut-off entry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../src/codec/index.js';
import { ROOT_ID } from '../../src/dag/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import {
  AUDIT_REF,
  type AuditEntry,
  AuditEventError,
  auditDigest,
  auditSigningBytes,
  Kernel,
  MAX_AUDIT_EVENT_BYTES,
  verifyAuditChain,
} from '../../src/kernel/index.js';
import { RefConflictError, RefNotFoundError } from '../../src/store/index.js';
import { iterations, replayHint, testSeed } from '../helpers/seed.js';
import { tmpDirs } from '../helpers/tmp.js';

const tmp = tmpDirs('jit-audit-');

describe('kernel - the audit trail', () => {
  it('appends entries as a chain of provenance nodes, durable across a restart', async () => {
    const dir = await tmp();
    let k = await Kernel.open(dir);
    assert.equal(k.auditHead(), null);
    assert.deepEqual(k.auditLog().entries, []);
    const a = await k.appendAudit({ type: 'transaction', tx: 't1', outcome: 'completed' }, 'coord');
    const b = await k.appendAudit(
      { type: 'transaction', tx: 't2', outcome: 'failed', fdia: { F: 0.64 } },
      'coord',
    );
    const c = await k.appendAudit({ type: 'note', text: 'ok' }, 'alice');
    assert.deepEqual([a.seq, b.seq, c.seq], [0, 1, 2]);
    const log = k.auditLog();
    assert.deepEqual(
      log.entries.map((e) => [e.seq, e.by, e.event.type]),
      [
        [0, 'coord', 'transaction'],
        [1, 'coord', 'transaction'],
        [2, 'alice', 'note'],
      ],
    );
    assert.equal(log.entries[0]!.previous, null);
    assert.equal(log.entries[1]!.previous, a.digest);
    assert.deepEqual(log.head, { seq: 2, digest: c.digest, node: c.node });
    assert.equal(k.store.getRef(AUDIT_REF)?.target, c.node);
    // each node's parent is the previous entry, the first's the root
    assert.deepEqual(k.store.reader.get(a.node).parents, [ROOT_ID]);
    assert.deepEqual(k.store.reader.get(c.node).parents, [b.node]);
    assert.equal(k.store.reader.get(c.node).type, 'provenance');
    assert.deepEqual(verifyAuditChain(log.entries, { head: log.head! }), {
      ok: true,
      count: 3,
      head: { seq: 2, digest: c.digest },
    });
    assert.deepEqual(
      k.auditLog({ from: 1, limit: 1 }).entries.map((e) => e.seq),
      [1],
    );
    const digests = await Kernel.replayDigests(dir);
    await k.close();
    k = await Kernel.open(dir);
    assert.deepEqual(k.auditHead(), log.head);
    assert.deepEqual(k.auditLog().entries, log.entries);
    const d = await k.appendAudit({ type: 'note', text: 'after restart' }, 'bob');
    assert.equal(d.seq, 3);
    assert.equal(k.auditLog().entries[3]!.previous, c.digest);
    assert.equal((await k.fsck()).ok, true);
    assert.equal((await Kernel.replayDigests(dir, { to: digests.end })).store, digests.store);
    await k.close();
  });

  it('refuses a bad event with a typed error and changes nothing', async () => {
    const k = await Kernel.open(await tmp());
    await k.appendAudit({ type: 'first' }, 'coord');
    const before = k.auditHead();
    const bad: [unknown, string, RegExp][] = [
      ['text', 'coord', /an audit event is a map/],
      [[1, 2], 'coord', /an audit event is a map/],
      [{ what: 'no type' }, 'coord', /names its type/],
      [{ type: 'big', text: 'x'.repeat(MAX_AUDIT_EVENT_BYTES) }, 'coord', /larger than/],
      [{ type: 'bytes', blob: new Uint8Array(4) }, 'coord', /event.blob is .*JSON values only/],
      [{ type: 'nan', n: [1, Number.NaN] }, 'coord', /event.n\[1\] is NaN/],
    ];
    for (const [ev, by, msg] of bad) {
      await assert.rejects(
        k.appendAudit(ev, by),
        (e: unknown) => e instanceof AuditEventError && msg.test((e as Error).message),
      );
    }
    await assert.rejects(k.appendAudit({ type: 'x' }, ''), /must be an agent id/);
    assert.deepEqual(k.auditHead(), before);
    await k.close();
  });

  it('keeps jit/audit its own: no client moves or deletes it, and no SWS is made on it', async () => {
    const k = await Kernel.open(await tmp());
    const a = await k.appendAudit({ type: 'first' }, 'coord');
    const main = k.store.getRef('main')!.target;
    await assert.rejects(
      k.setRef({ name: AUDIT_REF, kind: 'branch', target: main, force: true }),
      (e: unknown) =>
        e instanceof RefConflictError && /only audit.append moves it/.test((e as Error).message),
    );
    await assert.rejects(
      k.setRef({ name: AUDIT_REF, kind: 'branch', target: null }),
      RefConflictError,
    );
    await assert.rejects(
      k.setRef({ name: 'jit/other', kind: 'tag', target: main }),
      /kernel's own ref/,
    );
    await assert.rejects(k.create({ ref: AUDIT_REF, owner: 'alice' }), RefNotFoundError);
    assert.equal(k.auditHead()?.node, a.node);
    await k.close();
  });
});

describe('kernel - signed audit entries', () => {
  it('signs each digest with its signer; verify checks it, and names an unsigned or forged entry', async () => {
    const kernelKey = KeyPair.fromSeed(new Uint8Array(32).fill(9));
    const other = KeyPair.fromSeed(new Uint8Array(32).fill(10));
    const trust = TrustStore.memory([
      { agent: 'jit-kernel', publicKey: kernelKey.publicKey, role: 'kernel' },
      { agent: 'mallory', publicKey: other.publicKey, role: 'agent' },
    ]);
    const dir = await tmp();
    let k = await Kernel.open(dir);
    k.auditSigner = keySigner('jit-kernel', kernelKey);
    for (let i = 0; i < 4; i++) await k.appendAudit({ type: 'tx', n: i }, 'coord');
    const log = k.auditLog().entries.map(({ node: _, ...e }) => e);
    const head = { seq: 3, digest: log[3]!.digest };
    assert.ok(log.every((e) => e.signer === 'jit-kernel' && /^[0-9a-f]{128}$/.test(e.sig!)));
    assert.deepEqual(verifyAuditChain(log, { head, keys: trust }).ok, true);
    // the same signatures after a restart (Ed25519 is deterministic; the nodes are replayed)
    await k.close();
    k = await Kernel.open(dir);
    assert.deepEqual(
      k.auditLog().entries.map((e) => e.sig),
      log.map((e) => e.sig),
    );
    await k.close();
    const fails = (entries: AuditEntry[]) => {
      const v = verifyAuditChain(entries, { head, keys: trust });
      return v.ok ? 'ok' : `${v.problem}@${v.seq}`;
    };
    const { sig: _s, signer: _r, ...stripped } = log[1]!;
    assert.equal(fails(log.map((e, i) => (i === 1 ? stripped : e))), 'unsigned@1');
    assert.equal(fails(log.map((e, i) => (i === 2 ? { ...e, sig: log[1]!.sig! } : e))), 'forged@2');
    // a whole chain rebuilt with an edit, every digest and link right, signed by another key
    const rebuilt: AuditEntry[] = [];
    for (const e of log) {
      const body = {
        seq: e.seq,
        previous: rebuilt.at(-1)?.digest ?? null,
        by: e.by,
        event: e.seq === 2 ? { ...e.event, n: 99 } : e.event,
      };
      const digest = auditDigest(body);
      rebuilt.push({
        ...body,
        digest,
        signer: 'jit-kernel',
        sig: toHex(other.sign(auditSigningBytes(digest))),
      });
    }
    const newHead = { seq: 3, digest: rebuilt[3]!.digest };
    assert.equal(
      verifyAuditChain(rebuilt, { head: newHead }).ok,
      true,
      'digests and links alone cannot tell',
    );
    const v = verifyAuditChain(rebuilt, { head: newHead, keys: trust });
    assert.equal(v.ok ? 'ok' : `${v.problem}@${v.seq}`, 'forged@0');
  });
});

describe('verifyAuditChain: tampering is found and named', () => {
  const chain = (n: number): AuditEntry[] => {
    const out: AuditEntry[] = [];
    for (let i = 0; i < n; i++) {
      const body = {
        seq: i,
        previous: out[i - 1]?.digest ?? null,
        by: 'coord',
        event: { type: 'tx', n: i },
      };
      out.push({ ...body, digest: auditDigest(body) });
    }
    return out;
  };
  const log = chain(6);
  const head = { seq: 5, digest: log[5]!.digest };
  const fails = (entries: AuditEntry[], o = { head }) => {
    const v = verifyAuditChain(entries, o);
    assert.equal(v.ok, false);
    return v.ok ? undefined : [v.problem, v.seq];
  };

  it('an intact chain verifies, whole or from a later entry', () => {
    assert.equal(verifyAuditChain(log, { head }).ok, true);
    assert.equal(
      verifyAuditChain(log.slice(3), { from: { seq: 3, previous: log[2]!.digest }, head }).ok,
      true,
    );
    assert.deepEqual(verifyAuditChain([]), { ok: true, count: 0, head: null });
  });

  it('an edited entry', () => {
    const edited = log.map((e, i) => (i === 2 ? { ...e, event: { type: 'tx', n: 99 } } : e));
    assert.deepEqual(fails(edited), ['altered', 2]);
    const renamed = log.map((e, i) => (i === 4 ? { ...e, by: 'mallory' } : e));
    assert.deepEqual(fails(renamed), ['altered', 4]);
  });

  it('an edited entry given a fresh digest breaks the link after it', () => {
    const e2 = { ...log[2]!, event: { type: 'tx', n: 99 } };
    const redone = { ...e2, digest: auditDigest(e2) };
    const edited = log.map((e, i) => (i === 2 ? redone : e));
    assert.deepEqual(fails(edited), ['unlinked', 3]);
  });

  it('a deleted entry', () => {
    assert.deepEqual(fails([...log.slice(0, 3), ...log.slice(4)]), ['removed', 3]);
    assert.deepEqual(fails(log.slice(1)), ['removed', 0]);
  });

  it('reordered entries', () => {
    const swapped = [log[0]!, log[2]!, log[1]!, ...log.slice(3)];
    assert.deepEqual(fails(swapped), ['reordered', 2]);
    assert.deepEqual(fails([...log, log[5]!]), ['reordered', 5]);
  });

  it('a truncated chain, against the head', () => {
    assert.deepEqual(fails(log.slice(0, 4)), ['truncated', 4]);
    assert.deepEqual(fails([]), ['truncated', 0]);
    // without a head to compare with, a cut tail cannot be seen: the head is the anchor
    assert.equal(verifyAuditChain(log.slice(0, 4)).ok, true);
  });

  it('a malformed entry', () => {
    assert.deepEqual(fails([log[0]!, { seq: 1 } as never]), ['malformed', 1]);
  });
});

describe('verifyAuditChain: random tampering (seeded)', () => {
  it('finds every edit, deletion, swap, duplication and truncation, at or before the entry touched', () => {
    const seed = testSeed();
    const build = (events: { n: number; s: string }[]): AuditEntry[] => {
      const out: AuditEntry[] = [];
      for (const [i, ev] of events.entries()) {
        const body = {
          seq: i,
          previous: out[i - 1]?.digest ?? null,
          by: `a${ev.n % 3}`,
          event: { type: 'tx', ...ev },
        };
        out.push({ ...body, digest: auditDigest(body) });
      }
      return out;
    };
    const events = fc.array(fc.record({ n: fc.integer(), s: fc.string({ maxLength: 8 }) }), {
      minLength: 2,
      maxLength: 12,
    });
    const op = fc.constantFrom('edit', 'by', 'delete', 'swap', 'duplicate', 'truncate', 'redigest');
    try {
      fc.assert(
        fc.property(events, op, fc.nat(), (evs, what, at) => {
          const log = build(evs);
          const head = { seq: log.at(-1)!.seq, digest: log.at(-1)!.digest };
          assert.equal(verifyAuditChain(log, { head }).ok, true);
          const i = at % log.length;
          const t = [...log];
          switch (what) {
            case 'edit':
              t[i] = { ...t[i]!, event: { ...t[i]!.event, n: (t[i]!.event.n as number) + 1 } };
              break;
            case 'by':
              t[i] = { ...t[i]!, by: `${t[i]!.by}x` };
              break;
            case 'delete':
              t.splice(i, 1);
              break;
            case 'swap': {
              const j = i === log.length - 1 ? i - 1 : i + 1;
              [t[i], t[j]] = [t[j]!, t[i]!];
              break;
            }
            case 'duplicate':
              t.splice(i, 0, t[i]!);
              break;
            case 'truncate':
              t.length = i;
              break;
            case 'redigest': {
              const e = { ...t[i]!, event: { ...t[i]!.event, s: `${String(t[i]!.event.s)}!` } };
              t[i] = { ...e, digest: auditDigest(e) };
              break;
            }
          }
          const v = verifyAuditChain(t, { head });
          assert.equal(v.ok, false, `${what} at ${i} went unnoticed`);
          if (!v.ok)
            assert.ok(v.seq <= Math.max(i + 1, 0) + 1, `${what} at ${i} reported at ${v.seq}`);
        }),
        { seed, numRuns: iterations(300, 20_000) },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${replayHint(seed, 'kernel/audit')}`, { cause: e });
    }
  });
});
