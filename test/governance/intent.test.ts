/**
 * The 6-field intent language, its template library and the intake (issue 8, build item 1):
 * canonical records and the named variants, the Δ alias, the digest covering nested M, every
 * template valid, and the intake cache regression (same intent, another context, another result).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkIntent,
  checkTemplate,
  INTENT_TEMPLATES,
  Intake,
  IntentInvalidError,
  type IntentRecord,
  instantiate,
  intakeKey,
  intentDigest,
  intentOf,
  intentPayload,
  readCanonicalIntent,
  readIntent,
  TemplateError,
  template,
} from '../../src/governance/index.js';
import { createPacket, intakeHash } from '../../src/jitna/index.js';

const rec: IntentRecord = {
  I: 'Fix the off-by-one in src/range.ts',
  D: { path: 'src/range.ts', failing: ['range.test.ts'] },
  delta: 'range(0, 3) gives 4 items',
  A: 'a failing test first, then the smallest change',
  R: 'the new test passes; no other test breaks',
  M: { builds_on: 'snapshot 3f2a' },
};

describe('the 6-field intent record', () => {
  it('reads a canonical record, and Δ as delta (the canonical key winning)', () => {
    assert.deepEqual(readIntent(rec), { variant: 'canonical', ...rec });
    const { delta, ...rest } = rec;
    assert.deepEqual(readCanonicalIntent({ ...rest, Δ: delta }), rec);
    assert.equal(readCanonicalIntent({ ...rec, Δ: 'other' }).delta, rec.delta);
  });

  it('names each problem, and refuses unknown and missing fields', () => {
    const fields = (x: unknown) => checkIntent(x).map((p) => p.field);
    assert.deepEqual(fields({ ...rec, I: '  ' }), ['I']);
    assert.deepEqual(fields({ ...rec, I: 'x'.repeat(1001) }), ['I']);
    assert.deepEqual(fields({ ...rec, D: [] }), ['D']);
    assert.deepEqual(fields({ ...rec, M: { x: Number.NaN } }), ['M']);
    assert.deepEqual(fields({ ...rec, A: 3 }), ['A']);
    assert.deepEqual(fields({ ...rec, extra: 1 }), ['extra']);
    const { R: _, ...noR } = rec;
    assert.deepEqual(fields(noR), ['R']);
    assert.deepEqual(fields('fix it'), ['']);
    assert.throws(() => readIntent({ ...rec, D: 'facts' }), IntentInvalidError);
  });

  it('offers the SignedAI and LoRA shapes only as named variants', () => {
    const signedai = {
      variant: 'signedai',
      I: 'review',
      D: 'payments',
      delta: 'unreviewed',
      A: 'the diff is complete',
      R: 'no secret in the diff',
      M: 'findings per file',
    };
    assert.equal(readIntent(signedai).variant, 'signedai');
    // the same letters without the variant are not a canonical record (D is not a map)
    assert.deepEqual(
      checkIntent({ ...signedai, variant: undefined }).map((p) => p.field),
      ['variant'],
    );
    const { variant: _, ...bare } = signedai;
    assert.ok(checkIntent(bare).some((p) => p.field === 'D'));
    const lora = { variant: 'lora', I: 'ROUTE', D: 70, delta: 30, A: 'router', R: 'why', M: {} };
    assert.equal(readIntent(lora).variant, 'lora');
    assert.deepEqual(
      checkIntent({ ...lora, delta: 20 }).map((p) => p.field),
      ['delta'],
    );
    assert.deepEqual(
      checkIntent({ ...lora, A: 'boss' }).map((p) => p.field),
      ['A'],
    );
    assert.deepEqual(
      checkIntent({ ...lora, variant: 'genome' }).map((p) => p.field),
      ['variant'],
    );
    assert.throws(() => readCanonicalIntent(lora), /a lora intent where the canonical record/);
  });

  it('digests every field at every depth (the reference checksum dropped nested M)', () => {
    const a = intentDigest({ ...rec, M: { secret: 1 } });
    const b = intentDigest({ ...rec, M: { secret: 999 } });
    assert.notEqual(a, b);
    assert.match(a, /^[0-9a-f]{64}$/);
    // key order does not matter (canonical encoding)
    const reordered = { M: rec.M, R: rec.R, A: rec.A, delta: rec.delta, D: rec.D, I: rec.I };
    assert.equal(intentDigest(reordered), intentDigest(rec));
    assert.equal(intentDigest(readIntent(rec)), intentDigest(rec));
  });

  it('travels in a packet as payload.jitna', () => {
    const p = createPacket({
      source: 'planner',
      target: 'fixer',
      type: 'intent_request',
      payload: intentPayload(rec),
    });
    assert.deepEqual(intentOf(p), { variant: 'canonical', ...rec });
    const none = createPacket({ source: 'a', target: 'b', type: 'intent_request', payload: {} });
    assert.throws(() => intentOf(none), /carries no intent/);
  });
});

describe('the intent template library', () => {
  it('holds at least 20 templates, each valid, with unique ids', () => {
    assert.ok(INTENT_TEMPLATES.length >= 20, `${INTENT_TEMPLATES.length} templates`);
    assert.equal(new Set(INTENT_TEMPLATES.map((t) => t.id)).size, INTENT_TEMPLATES.length);
    for (const t of INTENT_TEMPLATES) assert.deepEqual(checkTemplate(t), [], t.id);
    for (const id of ['refactor', 'code-review', 'write-tests', 'write-docs', 'data-analysis'])
      assert.equal(template(id).id, id);
    assert.ok(template('schema-migration').securityLevel >= 4);
    assert.equal(template('incident-triage').id, 'incident-triage');
  });

  it('catches a broken template', () => {
    const t = template('refactor');
    assert.deepEqual(checkTemplate({ ...t, id: 'Refactor!' }).length, 1);
    assert.match(checkTemplate({ ...t, requires: ['target'] }).join(), /\{goal\} is used/);
    assert.match(checkTemplate({ ...t, risk: 'extreme' as never }).join(), /risk/);
    assert.match(checkTemplate({ ...t, securityLevel: 9 as never }).join(), /securityLevel/);
    assert.match(
      checkTemplate({ ...t, intent: `Refactor {target} ${'x'.repeat(1200)}` }).join(),
      /instantiated/,
    );
  });

  it('instantiates with the caller data, and says what is missing', () => {
    const r = instantiate('fix-bug', {
      data: { target: 'src/range.ts', symptom: 'range(0, 3) gives 4 items' },
      memory: { issue: 42 },
    });
    assert.equal(r.I, 'Fix src/range.ts so that it no longer shows: range(0, 3) gives 4 items');
    assert.deepEqual(r.M, { issue: 42 });
    assert.deepEqual(checkIntent(r), []);
    assert.throws(
      () => instantiate('fix-bug', { data: { target: 'x', symptom: '' } }),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.details.missing === 'symptom' &&
        /"symptom"/.test(e.message),
    );
    assert.throws(
      () => instantiate('make-coffee', { data: {} }),
      /no intent template "make-coffee"; there are: refactor/,
    );
  });
});

describe('the intake', () => {
  it('keeps the reference compute_hash for text, and hashes records with their context', () => {
    assert.equal(intakeKey('Fix It ', { a: 1 }), intakeHash('Fix It ', { a: 1 }));
    assert.notEqual(intakeKey(rec, { a: 1 }), intakeKey(rec, { a: 2 }));
    assert.notEqual(intakeKey(rec, {}), intakeKey({ ...rec, I: rec.I.toUpperCase() }, {}));
  });

  it('regression: the same intent in another context is worked out again, not answered from the cache', async () => {
    const intake = new Intake<string>();
    let runs = 0;
    const work = (h: string) => {
      runs++;
      return `result ${runs} for ${h.slice(0, 8)}`;
    };
    const a = await intake.process('summarise the report', { report: 'q1.pdf' }, work);
    const b = await intake.process('summarise the report', { report: 'q2.pdf' }, work);
    const c = await intake.process('Summarise the report ', { report: 'q1.pdf' }, work);
    assert.equal(runs, 2);
    assert.notEqual(a.result, b.result);
    assert.equal(c.result, a.result);
    assert.equal(c.cached, true);
    assert.equal(b.cached, false);
  });

  it('really updates its metrics, coalesces concurrent work and does not cache failures', async () => {
    let t = 0;
    const intake = new Intake<number>({ now: () => t, capacity: 2 });
    assert.deepEqual(intake.metrics().total_processed, 0);
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = async () => {
      runs++;
      await gate;
      t += 10;
      return runs;
    };
    const p1 = intake.process(rec, {}, slow);
    const p2 = intake.process(rec, {}, slow);
    release();
    const [x, y] = await Promise.all([p1, p2]);
    assert.equal(runs, 1);
    assert.equal(x.cached, false);
    assert.equal(y.cached, true);
    await assert.rejects(
      intake.process(rec, { other: true }, () => {
        throw new Error('tool crashed');
      }),
      /tool crashed/,
    );
    await assert.rejects(intake.process({ ...rec, I: '' }, {}, slow), IntentInvalidError);
    await intake.process(rec, { other: true }, () => 7);
    const m = intake.metrics();
    assert.equal(m.total_processed, 3);
    assert.equal(m.cache_hits, 1);
    assert.equal(m.cache_misses, 3);
    assert.equal(m.error_count, 2);
    assert.equal(m.cache_hit_rate, 1 / 3);
    assert.equal(m.avg_latency_ms, 20 / 3);
    assert.equal(m.last_updated, 10);
    // bounded: the least recently used answer goes
    await intake.process('a', {}, () => 1);
    assert.equal(intake.size, 2);
    const again = await intake.process(rec, {}, () => 99);
    assert.equal(again.cached, false);
  });

  it('honours an aborted signal before any work', async () => {
    const intake = new Intake<number>();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      intake.process('x', {}, () => 1, { signal: ac.signal }),
      /abort/i,
    );
    assert.equal(intake.metrics().error_count, 1);
  });
});
