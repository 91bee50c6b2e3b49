import type { LiveEvent, Tick } from './types.js';

/**
 * What the page has received, for people and for the end-to-end tests (`window.jitDashboard`):
 * every event is numbered by jitd, so a gap means an update was lost.
 */
export interface StreamStats {
  received: number;
  gaps: number;
  resyncs: number;
  connects: number;
  ticks: number;
  /** The number of the last event seen. */
  last: number;
  connected: boolean;
  /** The longest the page's event loop was late (ms): how unresponsive it got. */
  maxLag: number;
}

export const stats: StreamStats = {
  received: 0,
  gaps: 0,
  resyncs: 0,
  connects: 0,
  ticks: 0,
  last: 0,
  connected: false,
  maxLag: 0,
};
{
  const every = 100;
  let at = performance.now();
  setInterval(() => {
    const now = performance.now();
    stats.maxLag = Math.max(stats.maxLag, now - at - every);
    at = now;
  }, every);
}
(globalThis as unknown as { jitDashboard: StreamStats }).jitDashboard = stats;

type Listener<T> = (v: T) => void;
const eventListeners = new Set<Listener<readonly LiveEvent[]>>();
const tickListeners = new Set<Listener<Tick>>();
/** Told when everything must be fetched again (a reconnect, or jitd found the page too slow). */
const resetListeners = new Set<Listener<void>>();
const statusListeners = new Set<Listener<boolean>>();

function subscribe<T>(set: Set<Listener<T>>, fn: Listener<T>): () => void {
  set.add(fn);
  return () => set.delete(fn);
}
export const onEvents = (fn: Listener<readonly LiveEvent[]>) => subscribe(eventListeners, fn);
export const onTick = (fn: Listener<Tick>) => subscribe(tickListeners, fn);
export const onReset = (fn: Listener<void>) => subscribe(resetListeners, fn);
export const onStatus = (fn: Listener<boolean>) => subscribe(statusListeners, fn);

/** Follows /api/events; EventSource reconnects by itself, and each reconnect refetches. */
export function connect(): void {
  const es = new EventSource('/api/events');
  let expected = -1;
  es.addEventListener('hello', (m) => {
    const from = Number((m as MessageEvent<string>).data);
    if (stats.connects++ > 0) for (const l of resetListeners) l();
    expected = from + 1;
    stats.last = from;
    stats.connected = true;
    for (const l of statusListeners) l(true);
  });
  es.addEventListener('events', (m) => {
    const batch = JSON.parse((m as MessageEvent<string>).data) as LiveEvent[];
    for (const e of batch) {
      if (expected >= 0 && e.n > expected) stats.gaps += e.n - expected;
      expected = e.n + 1;
      stats.last = e.n;
    }
    stats.received += batch.length;
    for (const l of eventListeners) l(batch);
  });
  es.addEventListener('resync', (m) => {
    stats.resyncs++;
    expected = Number((m as MessageEvent<string>).data) + 1;
    for (const l of resetListeners) l();
  });
  es.addEventListener('tick', (m) => {
    stats.ticks++;
    const t = JSON.parse((m as MessageEvent<string>).data) as Tick;
    for (const l of tickListeners) l(t);
  });
  es.onerror = () => {
    stats.connected = false;
    for (const l of statusListeners) l(false);
  };
}
