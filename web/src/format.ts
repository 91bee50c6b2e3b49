/** A NodeID or SWS id shortened for display (the title keeps it whole). */
export const short = (id: string | null | undefined, n = 12): string =>
  id === null || id === undefined ? '–' : id.length > n ? `${id.slice(0, n)}…` : id;

/** A duration in ms as people read it. */
export function ago(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A rate or count with thousands grouped. */
export const num = (v: number | undefined): string =>
  v === undefined ? '–' : Math.round(v).toLocaleString('en');
