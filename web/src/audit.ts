import { html } from 'htm/preact';
import { short } from './format.js';
import { useResource } from './hooks.js';
import type { AuditStatus } from './types.js';

/** The audit trail and whether it verifies (digests, links, numbers and kernel signatures). */
export function Audit() {
  const { value, error } = useResource<AuditStatus>('/api/audit', (e) => e.type === 'audit');
  if (error) return html`<section><p class="error">${error}</p></section>`;
  if (value === undefined) return html`<section class="muted">Checking the audit trail…</section>`;
  return html`<section data-testid="audit">
    <h2>Audit trail · ${value.count} entries</h2>
    <p data-testid="audit-status">
      ${
        value.verified
          ? html`<span class="state verified">verified</span> every digest, link and kernel signature up to entry ${value.head?.seq ?? '–'}`
          : html`<span class="state broken">broken</span> ${value.problem}`
      }
    </p>
    <table>
      <tr><th>seq</th><th>type</th><th>by</th><th>digest</th><th>event</th></tr>
      ${value.recent.map(
        (e) => html`<tr key=${e.seq}>
          <td>${e.seq}</td><td>${String(e.event.type ?? '')}</td><td>${e.by}</td>
          <td class="mono" title=${e.digest}>${short(e.digest)}</td>
          <td class="mono muted">${JSON.stringify(e.event).slice(0, 160)}</td>
        </tr>`,
      )}
    </table>
  </section>`;
}
