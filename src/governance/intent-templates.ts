/**
 * The intent template library, as data: each template is an intent record with `{placeholders}`
 * filled from the data the caller supplies, plus what the work needs (the capability action and
 * formats agents must offer, the security level, the risk that picks the quorum tier).
 * `checkTemplate` validates one; the tests check every template here.
 */
import type { JsonMap } from '../jitna/index.js';
import { TemplateError } from './errors.js';
import { checkIntent, type IntentRecord } from './intent.js';
import { isRiskLevel, isSecurityLevel, type RiskLevel, type SecurityLevel } from './levels.js';

export interface IntentTemplate {
  /** Lowercase words joined by `-`. */
  readonly id: string;
  readonly title: string;
  /** The capability action an agent must offer to take the work. */
  readonly action: string;
  /** Formats the work is in; an agent must support one (empty: any). */
  readonly formats: readonly string[];
  /** The least security level the work needs (an agent's card must be at least this). */
  readonly securityLevel: SecurityLevel;
  /** How much harm the work can do: picks the quorum tier. */
  readonly risk: RiskLevel;
  /** The data keys the caller must supply; each `{key}` in the texts is one of them. */
  readonly requires: readonly string[];
  readonly intent: string;
  readonly delta: string;
  readonly approach: string;
  readonly reflection: string;
}

const T = (t: IntentTemplate): IntentTemplate => Object.freeze(t);

export const INTENT_TEMPLATES: readonly IntentTemplate[] = Object.freeze([
  T({
    id: 'refactor',
    title: 'Refactor without changing behaviour',
    action: 'refactor',
    formats: ['ts', 'js', 'py', 'go', 'rs'],
    securityLevel: 2,
    risk: 'medium',
    requires: ['target', 'goal'],
    intent: 'Refactor {target} so that {goal}, without changing its behaviour',
    delta: '{target} does not yet meet: {goal}',
    approach: 'small behaviour-preserving steps, each staged as a patch in the working set',
    reflection: 'the existing tests pass before and after; the public interface is unchanged',
  }),
  T({
    id: 'code-review',
    title: 'Review a change',
    action: 'review',
    formats: [],
    securityLevel: 1,
    risk: 'low',
    requires: ['change'],
    intent: 'Review {change} for defects, risks and unclear code',
    delta: '{change} has not been reviewed',
    approach: 'read the change and its context; record each finding as an annotation',
    reflection: 'every finding names a path and a line and says why it matters',
  }),
  T({
    id: 'write-tests',
    title: 'Write tests',
    action: 'test',
    formats: ['ts', 'js', 'py', 'go', 'rs'],
    securityLevel: 2,
    risk: 'low',
    requires: ['target'],
    intent: 'Write tests that pin the behaviour of {target}',
    delta: '{target} has behaviour no test asserts',
    approach: 'one test per behaviour, each able to fail; no mocks of the unit under test',
    reflection: 'the new tests pass, and fail when the behaviour they assert is broken',
  }),
  T({
    id: 'fix-bug',
    title: 'Fix a bug',
    action: 'fix',
    formats: ['ts', 'js', 'py', 'go', 'rs'],
    securityLevel: 2,
    risk: 'medium',
    requires: ['symptom', 'target'],
    intent: 'Fix {target} so that it no longer shows: {symptom}',
    delta: '{target} shows {symptom}',
    approach: 'reproduce with a failing test first, then change the least code that fixes it',
    reflection: 'the reproducing test fails before the fix and passes after; no other test breaks',
  }),
  T({
    id: 'write-docs',
    title: 'Document',
    action: 'document',
    formats: ['md'],
    securityLevel: 2,
    risk: 'low',
    requires: ['subject'],
    intent: 'Document {subject} for a newcomer',
    delta: '{subject} is undocumented or out of date',
    approach: 'read the code; write what it does, how to use it, and what it does not do',
    reflection: 'every example in the text runs; every claim matches the code',
  }),
  T({
    id: 'data-analysis',
    title: 'Analyse a dataset',
    action: 'analyze',
    formats: ['csv', 'json', 'parquet'],
    securityLevel: 1,
    risk: 'low',
    requires: ['dataset', 'question'],
    intent: 'Answer from {dataset}: {question}',
    delta: 'the question is unanswered',
    approach: 'read-only queries over the dataset; no row leaves the analysis unaggregated',
    reflection: 'the answer states its method and can be recomputed from the dataset',
  }),
  T({
    id: 'schema-migration',
    title: 'Migrate a schema',
    action: 'migrate',
    formats: ['sql'],
    securityLevel: 4,
    risk: 'critical',
    requires: ['database', 'change'],
    intent: 'Migrate the schema of {database}: {change}',
    delta: '{database} does not have the new schema',
    approach: 'a forward migration and its rollback, tried on a copy first',
    reflection: 'both directions run on a copy; no data is lost; the application tests pass',
  }),
  T({
    id: 'dependency-upgrade',
    title: 'Upgrade a dependency',
    action: 'upgrade',
    formats: ['npm', 'pip', 'cargo', 'go'],
    securityLevel: 2,
    risk: 'medium',
    requires: ['dependency', 'version'],
    intent: 'Upgrade {dependency} to {version}',
    delta: '{dependency} is older than {version}',
    approach: 'read the changelog; upgrade; adapt the call sites that broke',
    reflection: 'the build and every test pass on the new version',
  }),
  T({
    id: 'incident-triage',
    title: 'Triage an incident',
    action: 'triage',
    formats: [],
    securityLevel: 1,
    risk: 'high',
    requires: ['incident'],
    intent: 'Triage {incident}: its impact, its likely cause and the next step',
    delta: '{incident} is open and not understood',
    approach: 'read logs, metrics and recent changes; change nothing',
    reflection: 'the cause named is supported by evidence cited from the logs or changes',
  }),
  T({
    id: 'security-audit',
    title: 'Audit for security defects',
    action: 'audit',
    formats: [],
    securityLevel: 3,
    risk: 'high',
    requires: ['target'],
    intent: 'Audit {target} for security defects',
    delta: '{target} has not been audited',
    approach: 'read the code and its threat model; record each defect with its severity',
    reflection: 'each defect comes with a way to reproduce it or a reason it is exploitable',
  }),
  T({
    id: 'performance-tuning',
    title: 'Make something faster',
    action: 'optimize',
    formats: ['ts', 'js', 'py', 'go', 'rs'],
    securityLevel: 2,
    risk: 'medium',
    requires: ['target', 'goal'],
    intent: 'Make {target} meet {goal}',
    delta: '{target} misses {goal}',
    approach: 'measure with a benchmark against a baseline in the same run; change; measure again',
    reflection: 'the benchmark shows the goal met and the tests still pass',
  }),
  T({
    id: 'api-design',
    title: 'Design an interface',
    action: 'design',
    formats: ['md', 'ts'],
    securityLevel: 1,
    risk: 'low',
    requires: ['capability'],
    intent: 'Design the interface for {capability}',
    delta: 'there is no interface for {capability}',
    approach: 'write the types and the usage examples first, then the rationale',
    reflection: 'the examples type-check and cover the error cases',
  }),
  T({
    id: 'translation',
    title: 'Translate a document',
    action: 'translate',
    formats: ['md', 'txt'],
    securityLevel: 1,
    risk: 'low',
    requires: ['document', 'language'],
    intent: 'Translate {document} into {language}',
    delta: '{document} has no {language} version',
    approach: 'translate meaning, not words; keep the structure and the terms of art',
    reflection: 'a reader of {language} finds the same facts in the same places',
  }),
  T({
    id: 'summarize',
    title: 'Summarise',
    action: 'summarize',
    formats: [],
    securityLevel: 1,
    risk: 'low',
    requires: ['source'],
    intent: 'Summarise {source}',
    delta: '{source} is too long to read whole',
    approach: 'keep every decision and figure; drop the repetition',
    reflection: 'each statement in the summary is found in the source',
  }),
  T({
    id: 'lint-fix',
    title: 'Fix lint findings',
    action: 'lint',
    formats: ['ts', 'js', 'py'],
    securityLevel: 2,
    risk: 'low',
    requires: ['target'],
    intent: 'Fix the lint findings in {target}',
    delta: '{target} has lint findings',
    approach: "the project's own linter and its own rules; no rule is switched off",
    reflection: 'the linter reports nothing for {target}; the tests pass',
  }),
  T({
    id: 'type-annotations',
    title: 'Add types',
    action: 'typecheck',
    formats: ['ts', 'py'],
    securityLevel: 2,
    risk: 'low',
    requires: ['target'],
    intent: 'Give {target} complete, strict types',
    delta: '{target} has implicit or loose types',
    approach: 'types that say what the code does; no casts to silence the checker',
    reflection: 'the strict type check passes with no new casts',
  }),
  T({
    id: 'config-change',
    title: 'Change a configuration',
    action: 'configure',
    formats: ['json', 'yaml', 'toml'],
    securityLevel: 4,
    risk: 'high',
    requires: ['system', 'change'],
    intent: 'Change the configuration of {system}: {change}',
    delta: '{system} is not configured so',
    approach: 'one change at a time, each with its rollback written down',
    reflection: 'the system starts and passes its health checks with the new configuration',
  }),
  T({
    id: 'release-notes',
    title: 'Write release notes',
    action: 'document',
    formats: ['md'],
    securityLevel: 1,
    risk: 'low',
    requires: ['range'],
    intent: 'Write the release notes for {range}',
    delta: '{range} has no release notes',
    approach: 'read every change in the range; group by what users notice',
    reflection: 'every user-visible change in the range is listed, and nothing else',
  }),
  T({
    id: 'accessibility-review',
    title: 'Review accessibility',
    action: 'review',
    formats: ['html', 'tsx', 'jsx'],
    securityLevel: 1,
    risk: 'low',
    requires: ['target'],
    intent: 'Review {target} for accessibility defects',
    delta: '{target} has not been checked for accessibility',
    approach: 'check against WCAG 2.2 AA; record each defect with the rule it breaks',
    reflection: 'each finding names the element and the rule',
  }),
  T({
    id: 'log-analysis',
    title: 'Analyse logs',
    action: 'analyze',
    formats: ['log', 'json'],
    securityLevel: 1,
    risk: 'low',
    requires: ['logs', 'question'],
    intent: 'Find in {logs}: {question}',
    delta: 'the answer is buried in the logs',
    approach: 'read-only; quote the lines the answer rests on, with secrets redacted',
    reflection: 'every conclusion cites log lines that support it',
  }),
  T({
    id: 'dead-code-removal',
    title: 'Remove dead code',
    action: 'refactor',
    formats: ['ts', 'js', 'py', 'go', 'rs'],
    securityLevel: 2,
    risk: 'medium',
    requires: ['target'],
    intent: 'Remove the code in {target} that nothing reaches',
    delta: '{target} holds unreachable code',
    approach: 'prove each removal unreachable (no reference, no dynamic use) before removing it',
    reflection: 'the build and every test pass; the public interface is unchanged',
  }),
  T({
    id: 'secret-rotation',
    title: 'Rotate a secret',
    action: 'rotate',
    formats: [],
    securityLevel: 5,
    risk: 'critical',
    requires: ['secret', 'system'],
    intent: 'Rotate {secret} used by {system}',
    delta: '{secret} is due for rotation',
    approach: 'issue the new secret, move every user to it, then revoke the old one',
    reflection: 'the system works with the new secret and refuses the old one',
  }),
]);

const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function placeholders(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

const TEXTS = ['intent', 'delta', 'approach', 'reflection'] as const;

/** What is wrong with a template (empty when nothing): its fields, and whether it instantiates. */
export function checkTemplate(t: IntentTemplate): string[] {
  const out: string[] = [];
  if (!ID.test(t.id)) out.push(`id ${JSON.stringify(t.id)} is not lowercase words joined by -`);
  if (t.title.trim() === '') out.push('title is empty');
  if (!ID.test(t.action)) out.push(`action ${JSON.stringify(t.action)} is not a lowercase word`);
  if (!isSecurityLevel(t.securityLevel)) out.push(`securityLevel ${t.securityLevel} is not 1–5`);
  if (!isRiskLevel(t.risk)) out.push(`risk ${JSON.stringify(t.risk)} is not a risk level`);
  if (new Set(t.requires).size !== t.requires.length) out.push('requires lists a key twice');
  const used = new Set(TEXTS.flatMap((f) => placeholders(t[f])));
  for (const k of used) if (!t.requires.includes(k)) out.push(`{${k}} is used but not in requires`);
  if (!placeholders(t.intent).length && t.requires.length > 0)
    out.push('the intent names none of the data it requires');
  if (out.length === 0) {
    const sample: Record<string, string> = {};
    for (const k of t.requires) sample[k] = `<${k}>`;
    const problems = checkIntent(fill(t, { data: sample }));
    for (const p of problems) out.push(`instantiated: ${p.message}`);
  }
  return out;
}

/** The template with this id; throws TemplateError naming the ones there are. */
export function template(id: string): IntentTemplate {
  const t = INTENT_TEMPLATES.find((x) => x.id === id);
  if (t === undefined)
    throw new TemplateError(
      `no intent template ${JSON.stringify(id)}; there are: ${INTENT_TEMPLATES.map((x) => x.id).join(', ')}`,
      { template: id },
    );
  return t;
}

export interface TemplateInput {
  /** The facts: must hold every key the template requires, each a non-empty string or a number. */
  readonly data: JsonMap;
  /** Overrides the template's delta. */
  readonly delta?: string;
  /** What the work builds on (default none). */
  readonly memory?: JsonMap;
}

function fill(t: IntentTemplate, i: TemplateInput): IntentRecord {
  const sub = (s: string): string => s.replace(PLACEHOLDER, (_, k: string) => String(i.data[k]));
  return {
    I: sub(t.intent),
    D: i.data,
    delta: i.delta ?? sub(t.delta),
    A: sub(t.approach),
    R: sub(t.reflection),
    M: i.memory ?? {},
  };
}

/**
 * A template filled with the caller's data: the intent record, checked. Throws TemplateError
 * when a required key is missing or not text, or when the record does not validate.
 */
export function instantiate(t: IntentTemplate | string, i: TemplateInput): IntentRecord {
  const tpl = typeof t === 'string' ? template(t) : t;
  const missing = tpl.requires.filter((k) => {
    const v = i.data?.[k];
    return (
      !(typeof v === 'number' && Number.isFinite(v)) && !(typeof v === 'string' && v.trim() !== '')
    );
  });
  if (missing.length > 0)
    throw new TemplateError(
      `template ${tpl.id} needs ${missing.map((k) => JSON.stringify(k)).join(', ')} in its data (each a non-empty string or a number)`,
      { template: tpl.id, missing: missing.join(',') },
    );
  const rec = fill(tpl, i);
  const problems = checkIntent(rec);
  if (problems.length > 0)
    throw new TemplateError(
      `template ${tpl.id} gives an invalid intent: ${problems.map((p) => p.message).join('; ')}`,
      { template: tpl.id },
    );
  return rec;
}
