import { html } from 'htm/preact';
import { ago, short } from './format.js';
import type { Tick } from './types.js';

/** Agents heard on the plane: capability cards, security level, health, message rates. */
export function Agents(props: { tick: Tick | undefined }) {
  const agents = props.tick?.agents ?? [];
  return html`<section data-testid="agents">
    <h2>Agents · ${agents.length}</h2>
    <table>
      <tr><th>agent</th><th>health</th><th>level</th><th>actions</th><th>load</th><th>msg/s</th><th>messages</th><th>last heard</th></tr>
      ${agents.map(
        (a) => html`<tr key=${a.agent}>
          <td>${a.agent}${a.card?.name ? html` <span class="muted">${a.card.name} ${a.card.version ?? ''}</span>` : null}</td>
          <td><span class="state ${a.health}">${a.health}</span></td>
          <td>${a.securityLevel ?? '–'}</td>
          <td>${(a.card?.supported_actions ?? []).map((x) => html`<span class="badge">${x}</span>`)}</td>
          <td>${a.card?.load !== undefined ? `${Math.round(a.card.load * 100)}%` : '–'}</td>
          <td>${a.rate}</td><td>${a.messages}</td><td class="muted">${ago(a.silentMs)} ago</td>
        </tr>`,
      )}
    </table>
    ${agents.length === 0 ? html`<p class="muted">No agent heard yet.</p>` : null}
  </section>`;
}

/** JITNA conversations in flight, then the last finished ones. */
export function Negotiations(props: { tick: Tick | undefined }) {
  const list = props.tick?.negotiations ?? [];
  return html`<section data-testid="negotiations">
    <h2>Negotiations · ${props.tick?.open ?? 0} in flight</h2>
    <table>
      <tr><th>conversation</th><th>state</th><th>action</th><th>initiator</th><th>responder</th><th>steps</th><th>age</th></tr>
      ${list.map(
        (n) => html`<tr key=${n.conversation}>
          <td class="mono" title=${n.conversation}>${short(n.conversation, 10)}</td>
          <td><span class="state ${n.state}">${n.state}</span></td>
          <td>${n.action ?? '–'}</td><td>${n.initiator}</td><td>${n.responder}</td>
          <td>${n.steps}</td><td class="muted">${ago(n.ageMs)}</td>
        </tr>`,
      )}
    </table>
    ${list.length === 0 ? html`<p class="muted">No negotiation yet.</p>` : null}
  </section>`;
}
