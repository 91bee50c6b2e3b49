import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { short } from './format.js';
import { onEvents } from './stream.js';
import type { LiveEvent } from './types.js';

/** Lines kept in the feed (the page's memory stays bounded however long it runs). */
const KEEP = 200;

function describe(e: LiveEvent): string {
  switch (e.type) {
    case 'sws':
      return `SWS ${short(e.sws as string)}: ${e.op as string}${e.by ? ` by ${e.by as string}` : ''}`;
    case 'ref':
      return `ref ${(e.ref as string | null) ?? '?'} moved`;
    case 'audit':
      return `audit entry ${String(e.seq)}`;
    case 'policy':
      return 'the ACL or the trust store changed';
    case 'negotiation':
      return `${e.from as string}: ${e.kind as string} (${short(e.conversation as string, 8)})`;
    case 'finding':
      return `finding on SWS ${short(e.sws as string)} from ${e.from as string}`;
    case 'agent':
      return `agent ${e.agent as string} joined`;
    case 'kernel':
      return `kernel: ${e.event as string} ${e.detail as string}`;
  }
}

interface Line {
  readonly n: number;
  readonly text: string;
  /** Consecutive events that read the same, shown once. */
  readonly times: number;
}

/** The newest events first; a run of events that read the same is one line with a count. */
export function Feed() {
  const [lines, setLines] = useState<readonly Line[]>([]);
  useEffect(
    () =>
      onEvents((batch) =>
        setLines((now) => {
          const out = [...now];
          for (const e of batch) {
            const text = describe(e);
            const top = out[0];
            if (top !== undefined && top.text === text)
              out[0] = { n: e.n, text, times: top.times + 1 };
            else out.unshift({ n: e.n, text, times: 1 });
          }
          return out.slice(0, KEEP);
        }),
      ),
    [],
  );
  return html`<ul class="feed" data-testid="feed">
    ${lines.length === 0 ? html`<li class="muted">Nothing yet: events appear here as they happen.</li>` : null}
    ${lines.map(
      (l) =>
        html`<li key=${l.n}><span class="muted">#${l.n}</span> ${l.text}${l.times > 1 ? html` <span class="muted">×${l.times}</span>` : null}</li>`,
    )}
  </ul>`;
}
