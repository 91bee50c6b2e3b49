import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { Agents, Negotiations } from './agents.js';
import { get } from './api.js';
import { Audit } from './audit.js';
import { Charts } from './charts.js';
import { Feed } from './feed.js';
import { History } from './history.js';
import { useTicks } from './hooks.js';
import { connect, onStatus } from './stream.js';
import { WorkingSets } from './sws.js';

const VIEWS = ['overview', 'working sets', 'history', 'agents', 'audit'] as const;
type View = (typeof VIEWS)[number];

interface Info {
  version: string;
  home: string;
  head: string | null;
  node_count: number;
  sws_active: number;
  actions: boolean;
  plane?: { transport?: string; url?: string };
}

function App() {
  const initial = decodeURIComponent(location.hash.slice(1)) as View;
  const [view, setView] = useState<View>(VIEWS.includes(initial) ? initial : 'overview');
  const [live, setLive] = useState(false);
  const [info, setInfo] = useState<Info | undefined>(undefined);
  const ticks = useTicks(120);
  const tick = ticks[ticks.length - 1];
  useEffect(() => onStatus(setLive), []);
  useEffect(() => {
    get<Info>('/api/info').then(setInfo, () => undefined);
  }, []);
  const go = (v: View) => {
    location.hash = v;
    setView(v);
  };
  return html`
    <header>
      <h1>JIT</h1>
      <nav>${VIEWS.map((v) => html`<button class=${v === view ? 'on' : ''} data-view=${v} onClick=${() => go(v)}>${v}</button>`)}</nav>
      <span class="live ${live ? 'on' : 'off'}" data-testid="live">${live ? 'live' : 'reconnecting'}</span>
      <span class="muted">${info ? `jitd ${info.version} · plane ${info.plane?.transport ?? '?'} · ${info.home}` : ''}</span>
    </header>
    <main data-testid=${`view-${view}`}>
      ${
        view === 'overview'
          ? html`<section><h2>Throughput and latency</h2><${Charts} ticks=${ticks} /></section>
            <div class="cols"><section><h2>Live events</h2><${Feed} /></section><${Negotiations} tick=${tick} /></div>`
          : null
      }
      ${view === 'working sets' ? html`<${WorkingSets} actions=${info?.actions ?? false} />` : null}
      ${view === 'history' ? html`<${History} />` : null}
      ${view === 'agents' ? html`<${Agents} tick=${tick} /><${Negotiations} tick=${tick} />` : null}
      ${view === 'audit' ? html`<${Audit} />` : null}
    </main>`;
}

connect();
const root = document.getElementById('app')!;
root.textContent = '';
render(html`<${App} />`, root);
