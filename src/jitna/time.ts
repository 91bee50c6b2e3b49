const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A timestamp read: when, and whether its offset is UTC (`Z` or `+00:00`). */
export interface Instant {
  readonly ms: number;
  readonly utc: boolean;
}

/** The digits of `s` from `at`, `n` of them (the regular expression has checked they are digits). */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Reads an RFC 3339 timestamp (`2026-11-23T10:00:00Z`, `…T10:00:00.123456+00:00`); undefined for
 * anything else, a day or an hour out of range included. Fractions below the millisecond are
 * cut. A leap second (`:60`) is refused: no clock here can say when it was.
 */
export function parseRfc3339(s: string): Instant | undefined {
  const m = RFC3339.exec(s);
  if (m === null) return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  // before 1970 is no packet of ours (and Date.UTC would read years 0–99 as 1900–1999)
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59)
    return undefined;
  const f = m[7];
  const frac = f === undefined ? 0 : digits(`${f.slice(1)}00`, 0, 3);
  const zone = m[8]!;
  let offset = 0;
  if (zone !== 'Z') {
    if (zone === '-00:00') return undefined; // RFC 3339: "-00:00" is an unknown offset
    const oh = digits(zone, 1, 2);
    const om = digits(zone, 4, 2);
    if (oh > 23 || om > 59) return undefined;
    offset = (zone.charCodeAt(0) === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return {
    ms: Date.UTC(y, mo - 1, d, h, mi, sec) + frac - offset,
    utc: zone === 'Z' || zone === '+00:00',
  };
}
