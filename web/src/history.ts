import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { short } from './format.js';
import { useResource } from './hooks.js';
import type { HistoryNode } from './types.js';

const ROW = 30;
const LANE = 22;

/**
 * Lanes for a graph listed newest first: a node takes the lane reserved for it by a child (its
 * first parent continues the child's lane), or the first free one.
 */
export function layout(nodes: readonly HistoryNode[]): Map<string, number> {
  const lane = new Map<string, number>();
  const reserved: (string | null)[] = [];
  for (const n of nodes) {
    let at = reserved.indexOf(n.id);
    if (at < 0) {
      at = reserved.indexOf(null);
      if (at < 0) at = reserved.push(null) - 1;
    }
    // a node reserved by several children frees the other lanes
    for (let i = 0; i < reserved.length; i++) if (reserved[i] === n.id) reserved[i] = null;
    lane.set(n.id, at);
    n.parents.forEach((p, i) => {
      if (reserved.includes(p)) return;
      if (i === 0) reserved[at] = p;
      else {
        const free = reserved.indexOf(null);
        if (free < 0) reserved.push(p);
        else reserved[free] = p;
      }
    });
  }
  return lane;
}

function NodeDetail(props: { id: string }) {
  const { value, error } = useResource<{
    type: string;
    lamport: number;
    parents: string[];
    payload: Record<string, unknown>;
  }>(`/api/node/${props.id}`, () => false);
  if (error) return html`<p class="error">${error}</p>`;
  if (value === undefined) return html`<p class="muted">…</p>`;
  const p = value.payload;
  return html`<section data-testid="node-detail">
    <h2>${value.type} <span class="mono">${short(props.id, 24)}</span></h2>
    <table>
      <tr><th>lamport</th><td>${value.lamport}</td></tr>
      <tr><th>parents</th><td class="mono">${value.parents.map((x) => html`<div>${x}</div>`)}</td></tr>
      ${Object.entries(p).map(
        ([k, v]) =>
          html`<tr><th>${k}</th><td class="mono">${typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>`,
      )}
    </table>
  </section>`;
}

/** The snapshot history as a graph of the DAG: snapshots and rewrite (merge) nodes. */
export function History() {
  const { value, error } = useResource<{ nodes: HistoryNode[] }>(
    '/api/history?limit=200',
    (e) => e.type === 'ref',
  );
  const [picked, setPicked] = useState<string | null>(null);
  if (error) return html`<section><p class="error">${error}</p></section>`;
  const nodes = value?.nodes ?? [];
  const lanes = layout(nodes);
  const row = new Map(nodes.map((n, i) => [n.id, i]));
  const width = Math.max(1, ...lanes.values()) * LANE + 2 * LANE;
  const x = (id: string) => LANE + (lanes.get(id) ?? 0) * LANE;
  const y = (id: string) => ROW / 2 + (row.get(id) ?? 0) * ROW;
  return html`<div class="cols">
    <section class="graph" data-testid="history">
      <h2>History · ${nodes.length} nodes</h2>
      ${nodes.length === 0 ? html`<p class="muted">No snapshot yet: commit a working set.</p>` : null}
      <svg width="100%" height=${nodes.length * ROW + 4}>
        ${nodes.flatMap((n) =>
          n.parents.map(
            (p) =>
              html`<path d="M${x(n.id)},${y(n.id)} C${x(n.id)},${y(n.id) + ROW / 2} ${x(p)},${y(p) - ROW / 2} ${x(p)},${y(p)}" />`,
          ),
        )}
        ${nodes.map(
          (n) => html`<g key=${n.id} data-node=${n.id} onClick=${() => setPicked(n.id)}>
            <circle class="${n.type} ${n.id === picked ? 'sel' : ''}" cx=${x(n.id)} cy=${y(n.id)} r="7" />
            <text x=${width} y=${y(n.id) + 4}>
              <tspan class="mono">${short(n.id, 10)}</tspan>
              ${n.refs.length > 0 ? html`<tspan fill="#5fd38d"> (${n.refs.join(', ')})</tspan>` : null}
              <tspan> ${n.type === 'rewrite' ? 'merge' : (n.message ?? '').split('\n')[0]}</tspan>
              <tspan class="muted"> ${n.author ?? ''}</tspan>
            </text>
          </g>`,
        )}
      </svg>
    </section>
    ${picked ? html`<${NodeDetail} id=${picked} />` : html`<section class="muted">Click a node to see it.</section>`}
  </div>`;
}
