/**
 * A short, always-safe rendering of a value for an error message: text is quoted, bigints end in
 * `n`, bytes show as h'…' hex, anything long is cut. Unlike JSON.stringify it never throws (a
 * bigint or a cycle in bad input must not turn a typed refusal into a TypeError).
 */
export function describeValue(v: unknown, max = 80): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (typeof v === 'bigint') s = `${v}n`;
  else if (v instanceof Uint8Array)
    s = `h'${Buffer.from(v.subarray(0, 40)).toString('hex')}${v.length > 40 ? '…' : ''}'`;
  else if (Array.isArray(v)) s = `an array of ${v.length}`;
  else if (v === null) s = 'null';
  else if (typeof v === 'object') s = 'a map';
  else s = String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
