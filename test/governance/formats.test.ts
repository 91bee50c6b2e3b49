/**
 * Golden fixtures for the governance byte formats (habit 6): an audit entry's digest and its
 * provenance node, the intent digest, the intake key, the question digest, and the signed bytes
 * and signatures of a vote and a verdict. A change to any of them fails here first.
 * JIT_WRITE_FIXTURES=1 rewrites the file (only for an intended, documented format change).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { toHex } from '../../src/codec/index.js';
import { encodeNode, makeNode, nodeId, ROOT_ID } from '../../src/dag/index.js';
import {
  instantiate,
  intakeKey,
  intentDigest,
  questionDigest,
  signVerdict,
  signVote,
  verdictSigningBytes,
  voteSigningBytes,
} from '../../src/governance/index.js';
import { KeyPair, keySigner, TrustStore } from '../../src/identity/index.js';
import { auditPayload, nextAuditEntry } from '../../src/kernel/audit.js';
import { type AuditEntry, auditDigest, auditSigningBytes } from '../../src/kernel/index.js';

const fixture = new URL('../../../test/fixtures/governance/formats-v1.json', import.meta.url);

describe('governance golden fixtures', () => {
  it('reproduces every format byte for byte', async () => {
    const entries: AuditEntry[] = [];
    const nodes: string[] = [];
    let parent = ROOT_ID;
    let lamport = 0;
    for (const [by, event] of [
      ['coord', { type: 'jitna.transaction', tx: 't1', outcome: 'completed', fdia: { F: 0.64 } }],
      ['alice', { type: 'note', text: 'ไทย and ✓', list: [1, -2, 3.5, null, true] }],
    ] as const) {
      const e = nextAuditEntry(entries.at(-1), by, event as never);
      entries.push(e);
      const n = makeNode('provenance', [parent], auditPayload(e), () => lamport);
      lamport = n.meta.lamport;
      parent = nodeId(n);
      nodes.push(`${parent} ${toHex(encodeNode(n)).slice(0, 64)}…`);
    }
    assert.equal(auditDigest(entries[1]!), entries[1]!.digest);
    const intent = instantiate('fix-bug', {
      data: { target: 'src/range.ts', symptom: 'off by one' },
    });
    const keys = [1, 2].map((i) => KeyPair.fromSeed(new Uint8Array(32).fill(i)));
    const trust = TrustStore.memory([
      { agent: 'v1', publicKey: keys[0]!.publicKey, role: 'agent' },
      { agent: 'coord', publicKey: keys[1]!.publicKey, role: 'agent' },
    ]);
    const q = questionDigest({ id: 't1', subject: 'snapshot', text: 'Right?' });
    const vote = signVote(q, keySigner('v1', keys[0]!), {
      model: 'm1',
      vote: 'agree',
      reason: 'ok',
    });
    const verdict = signVerdict(
      { question: q, tier: 'S', voters: ['v1'], votes: [vote] },
      keySigner('coord', keys[1]!),
      trust,
    );
    const made = {
      audit: entries,
      audit_nodes: nodes,
      audit_signing_bytes: toHex(auditSigningBytes(entries[1]!.digest)),
      audit_signature: toHex(keys[1]!.sign(auditSigningBytes(entries[1]!.digest))),
      intent_digest: intentDigest(intent),
      intake_key_text: intakeKey('Fix the bug', { repo: 'demo' }),
      intake_key_record: intakeKey(intent, { repo: 'demo' }),
      question: q,
      vote_signing_bytes: toHex(voteSigningBytes(vote)),
      vote_signature: vote.signature,
      verdict_signing_bytes: toHex(verdictSigningBytes(verdict)),
      verdict_signature: verdict.signature,
    };
    if (process.env.JIT_WRITE_FIXTURES === '1')
      await writeFile(fixture, `${JSON.stringify(made, null, 2)}\n`);
    assert.deepEqual(made, JSON.parse(await readFile(fixture, 'utf8')));
  });
});
