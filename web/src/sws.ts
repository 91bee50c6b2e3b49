import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { act } from './api.js';
import { short } from './format.js';
import { useResource } from './hooks.js';
import type { Change, DiffLine, LiveEvent, Sws } from './types.js';

/** Closed working sets shown below the open ones. */
const CLOSED_SHOWN = 30;

const touches = (id: string) => (e: LiveEvent) =>
  (e.type === 'sws' && e.sws === id) || (e.type === 'finding' && e.sws === id);

function Diff(props: { sws: string; path: string }) {
  const { value, error } = useResource<{
    lines: DiffLine[] | null;
    note: string | null;
    change: string;
  }>(`/api/sws/${props.sws}/diff?path=${encodeURIComponent(props.path)}`, touches(props.sws));
  if (error) return html`<p class="error">${error}</p>`;
  if (value === undefined) return html`<p class="muted">…</p>`;
  if (value.lines === null) return html`<p class="muted">${props.path}: ${value.note}</p>`;
  return html`<pre class="diff" data-testid="diff">${value.lines.map(
    (l) =>
      html`<div class=${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>${l.op} ${l.text}</div>`,
  )}</pre>`;
}

function Detail(props: { sws: Sws; actions: boolean }) {
  const s = props.sws;
  const [path, setPath] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const { value } = useResource<{ changes: Change[] }>(`/api/sws/${s.id}/diff`, touches(s.id));
  const discard = () =>
    act(`/api/sws/${s.id}/discard`).then(
      () => setMsg('discarded'),
      (e: Error) => setMsg(e.message),
    );
  return html`<section data-testid="sws-detail">
    <h2>Working set <span class="mono" title=${s.id}>${short(s.id, 20)}</span></h2>
    <p>
      <span class="state ${s.state}">${s.state}</span> owner <b>${s.owner}</b> on${' '}
      <span class="mono">${s.base_ref}</span>
      ${s.members.length > 0 ? ` · members ${s.members.join(', ')}` : ''}
      ${s.result ? html` · committed as <span class="mono">${short(s.result.snapshot)}</span>` : null}
      ${props.actions && s.state === 'ACTIVE' ? html` <button class="act" onClick=${discard}>Discard</button>` : null}
      ${msg ? html` <span class="muted">${msg}</span>` : null}
    </p>
    ${s.conflicts.length > 0 ? html`<p class="error">Conflicts: ${s.conflicts.join(', ')}</p>` : null}
    <h2>Changes</h2>
    <table>
      ${(value?.changes ?? []).map(
        (
          c,
        ) => html`<tr class="pick ${c.path === path ? 'sel' : ''}" onClick=${() => setPath(c.path)}>
          <td class="mono">${c.path}</td><td><span class="state ${c.change}">${c.change}</span></td>
        </tr>`,
      )}
    </table>
    ${value?.changes.length === 0 ? html`<p class="muted">No changes.</p>` : null}
    ${path !== null ? html`<${Diff} sws=${s.id} path=${path} />` : null}
    <h2>Findings</h2>
    ${
      s.annotations.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table>${s.annotations.map(
            (a) => html`<tr><td><span class="state ${a.severity}">${a.severity}</span></td>
            <td class="mono">${a.path}</td><td>${a.message}</td><td class="muted">${a.author}</td></tr>`,
          )}</table>`
    }
  </section>`;
}

/** Open working sets (and the last closed ones), and the one picked in detail. */
export function WorkingSets(props: { actions: boolean }) {
  const { value, error } = useResource<{ sws: Sws[] }>(
    '/api/sws',
    (e) => e.type === 'sws' || e.type === 'finding',
  );
  const [picked, setPicked] = useState<string | null>(null);
  if (error) return html`<section><p class="error">${error}</p></section>`;
  const all = value?.sws ?? [];
  const open = all.filter((s) => s.state === 'ACTIVE');
  const closed = all
    .filter((s) => s.state !== 'ACTIVE')
    .slice(-CLOSED_SHOWN)
    .reverse();
  const sel = all.find((s) => s.id === picked);
  const row = (
    s: Sws,
  ) => html`<tr key=${s.id} class="pick ${s.id === picked ? 'sel' : ''}" data-sws=${s.id}
      onClick=${() => setPicked(s.id)}>
    <td class="mono" title=${s.id}>${short(s.id)}</td>
    <td><span class="state ${s.state}">${s.state}</span></td>
    <td>${s.owner}</td><td>${s.members.length}</td><td data-testid="patches">${s.patches}</td>
    <td>${s.changed}</td><td class=${s.conflicts.length > 0 ? 'error' : ''}>${s.conflicts.length}</td>
    <td>${s.annotations.length}</td>
  </tr>`;
  return html`<div class="cols">
    <section data-testid="sws-list">
      <h2>Working sets · ${open.length} open, ${all.length} in all</h2>
      <table>
        <tr><th>id</th><th>state</th><th>owner</th><th>members</th><th>patches</th><th>changed</th><th>conflicts</th><th>findings</th></tr>
        ${open.map(row)} ${closed.map(row)}
      </table>
      ${all.length === 0 ? html`<p class="muted">No working set yet. Create one: <code>jit sws create</code>.</p>` : null}
    </section>
    ${sel ? html`<${Detail} sws=${sel} actions=${props.actions} />` : html`<section class="muted">Pick a working set to see its changes, a diff of any path, its conflicts and findings.</section>`}
  </div>`;
}
