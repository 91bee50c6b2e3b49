import { html } from 'htm/preact';
import { num } from './format.js';
import type { Tick } from './types.js';

/** One small live chart: the last values of `pick` over the ticks, newest on the right. */
export function Sparkline(props: {
  label: string;
  ticks: readonly Tick[];
  pick: (t: Tick) => number | null;
  unit: string;
}) {
  const values = props.ticks.map(props.pick);
  const known = values.filter((v): v is number => v !== null);
  const max = Math.max(1, ...known);
  const w = 240;
  const h = 48;
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values
    .map((v, i) =>
      v === null ? null : `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`,
    )
    .filter((p) => p !== null)
    .join(' ');
  const last = known[known.length - 1];
  const shown = last === undefined ? '–' : props.unit === 'ms' ? last.toFixed(2) : num(last);
  return html`<div class="chart" data-chart=${props.label}>
    <div class="label"><span>${props.label}</span><span class="value">${shown} ${props.unit}</span></div>
    <svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><polyline points=${points} /></svg>
  </div>`;
}

/** Throughput and latency of the kernel and its plane. */
export function Charts(props: { ticks: readonly Tick[] }) {
  const t = props.ticks;
  return html`<div class="charts">
    <${Sparkline} label="patches" unit="/s" ticks=${t} pick=${(x: Tick) => x.rates.patches ?? 0} />
    <${Sparkline} label="commits" unit="/s" ticks=${t} pick=${(x: Tick) => x.rates.commits ?? 0} />
    <${Sparkline} label="kernel calls" unit="/s" ticks=${t} pick=${(x: Tick) => x.rates.requests ?? 0} />
    <${Sparkline} label="plane messages in" unit="/s" ticks=${t} pick=${(x: Tick) => x.rates.delivered ?? 0} />
    <${Sparkline} label="plane messages out" unit="/s" ticks=${t} pick=${(x: Tick) => x.rates.published ?? 0} />
    <${Sparkline} label="patch ack p99" unit="ms" ticks=${t} pick=${(x: Tick) => x.latency.patch?.p99 ?? null} />
    <${Sparkline} label="WAL sync p99" unit="ms" ticks=${t} pick=${(x: Tick) => x.latency.sync?.p99 ?? null} />
  </div>`;
}
