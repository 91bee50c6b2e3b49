/** One sample of the Prometheus text format: a metric name, its labels, a value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  /** The declared type of each metric family (`# TYPE`). */
  readonly types: ReadonlyMap<string, string>;
  /** The value of the one sample of `name` whose labels include `labels` (undefined: none). */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Parses the Prometheus text exposition format (version 0.0.4) strictly: every line a comment
 * (`# HELP`, `# TYPE` or other), a blank, or `name{label="value",…} number`. Throws, naming the
 * line, on anything else, and on a sample whose family was typed as something it cannot be.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1} ("${line.slice(0, 80)}")`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return;
      if (!NAME.test(m[2]!)) throw new Error(`${where}: bad metric name`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!))
          throw new Error(`${where}: unknown type`);
        types.set(m[2]!, m[3]!);
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (m === null) throw new Error(`${where}: not a sample`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let at = 0;
      for (let l = re.exec(m[2]); l !== null; l = re.exec(m[2])) {
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
        at = re.lastIndex;
        if (l[3] === '') break;
      }
      if (at !== m[2].length) throw new Error(`${where}: bad labels`);
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw !== 'NaN' && Number.isNaN(value)) throw new Error(`${where}: bad value`);
    samples.push({ name: m[1]!, labels, value });
  });
  for (const s of samples) {
    const family = types.get(s.name) ?? types.get(s.name.replace(/_(bucket|sum|count|total)$/, ''));
    if (family === 'counter' && s.value < 0) throw new Error(`${s.name}: a counter below 0`);
  }
  return {
    samples,
    types,
    value(name, labels = {}) {
      const hits = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      if (hits.length > 1)
        throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
      return hits[0]?.value;
    },
  };
}
