import type { LiveModel, Numbered } from './live.js';
import type { JitMetrics } from './metrics.js';

/** One tick of the live charts and lists. */
export interface Tick {
  readonly t: number;
  /** Per second, over the last tick. */
  readonly rates: Record<string, number>;
  readonly latency: ReturnType<JitMetrics['takeLatencies']>;
  readonly agents: ReturnType<LiveModel['tick']>['agents'];
  readonly negotiations: ReturnType<LiveModel['tick']>['negotiations'];
  readonly open: number;
  /** The last event number sent. */
  readonly n: number;
}

/**
 * The dashboard's live stream, `GET /api/events` (`text/event-stream`, read by the page's
 * EventSource in `web/src/stream.ts`). Four events, each a block of `field: value` lines ended by
 * a blank line:
 *
 * - `hello`: first on every connection, with `retry: 1000` (reconnect after a second); data: the
 *   number of the last event sent before this page joined (what it fetched covers those);
 * - `events`: with `id:` the number of its last event; data: a JSON array of numbered live events
 *   (`{type, …, n}`), numbered from 1 with no holes, so a page can tell it missed some;
 * - `resync`: sent instead of events to a page more than the backlog behind; data: the number of
 *   the last event sent: the page refetches everything and counts on from there;
 * - `tick`: once a second; data: a JSON object of rates, latencies, agents and negotiations.
 *
 * The golden stream `test/fixtures/dashboard/sse-v1.txt` catches any change to these bytes.
 */

/** The stream's first block: reconnect delay and where numbering stands. */
export function helloFrame(lastSent: number): string {
  return `retry: 1000\nevent: hello\ndata: ${lastSent}\n\n`;
}

/** A batch of numbered events (at least one), its id the last event's number. */
export function eventsFrame(batch: readonly Numbered[]): string {
  return `id: ${batch[batch.length - 1]!.n}\nevent: events\ndata: ${JSON.stringify(batch)}\n\n`;
}

/** What a page too far behind is sent instead: the last event number sent. */
export function resyncFrame(lastSent: number): string {
  return `event: resync\ndata: ${lastSent}\n\n`;
}

/** One tick of the charts (a JSON object on one line). */
export function tickFrame(tick: Tick): string {
  return `event: tick\ndata: ${JSON.stringify(tick)}\n\n`;
}
