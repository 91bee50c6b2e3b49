/**
 * Line-level text operations: splitting, hunks, a Myers diff and a three-way merge (diff3).
 * A text is the array of its lines split on "\n" (so "a\nb\n" is ["a", "b", ""]), which makes
 * split/join an exact round trip.
 */

/** Replace lines [start, end) of the base with `lines`. */
export interface Hunk {
  readonly start: number;
  readonly end: number;
  readonly lines: readonly string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** The lines of UTF-8 content, or undefined when it is not text (invalid UTF-8 or has NUL). */
export function toLines(content: Uint8Array): string[] | undefined {
  if (content.includes(0)) return undefined;
  try {
    return utf8.decode(content).split('\n');
  } catch {
    return undefined;
  }
}

export function fromLines(lines: readonly string[]): Uint8Array {
  return enc.encode(lines.join('\n'));
}

/** Applies sorted, non-overlapping hunks; undefined if they are out of order or out of range. */
export function applyHunks(base: readonly string[], hunks: readonly Hunk[]): string[] | undefined {
  const out: string[] = [];
  let at = 0;
  for (const h of hunks) {
    if (h.start < at || h.end < h.start || h.end > base.length) return undefined;
    for (let i = at; i < h.start; i++) out.push(base[i]!);
    out.push(...h.lines);
    at = h.end;
  }
  for (let i = at; i < base.length; i++) out.push(base[i]!);
  return out;
}

/** The hunks that turn `a` into `b` (Myers' O(ND) diff), in order. */
export function diffLines(a: readonly string[], b: readonly string[]): Hunk[] {
  // trim the common prefix and suffix first: most edits are local
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (
    suf < a.length - pre &&
    suf < b.length - pre &&
    a[a.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  if (n === 0 && m === 0) return [];
  if (n === 0 || m === 0) return [{ start: pre, end: pre + n, lines: B }];
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[max + k - 1]! < v[max + k + 1]!)
          ? v[max + k + 1]!
          : v[max + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // walk back: collect the matched (diagonal) pairs
  const matches: [number, number][] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const vv = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vv[max + k - 1]! < vv[max + k + 1]!) ? k + 1 : k - 1;
    const prevX = vv[max + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      matches.push([x, y]);
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    matches.push([x, y]);
  }
  matches.reverse();
  const hunks: Hunk[] = [];
  let ai = 0;
  let bi = 0;
  for (const [mx, my] of [...matches, [n, m] as [number, number]]) {
    if (mx > ai || my > bi) hunks.push({ start: pre + ai, end: pre + mx, lines: B.slice(bi, my) });
    ai = mx + 1;
    bi = my + 1;
  }
  return hunks;
}

function sameHunk(x: Hunk, y: Hunk): boolean {
  return (
    x.start === y.start &&
    x.end === y.end &&
    x.lines.length === y.lines.length &&
    x.lines.every((l, i) => l === y.lines[i])
  );
}

/** Two hunks touch the same base lines (or insert at the same point). */
function overlaps(x: Hunk, y: Hunk): boolean {
  if (x.start === x.end && y.start === y.end) return x.start === y.start;
  if (x.start === x.end) return x.start > y.start && x.start < y.end;
  if (y.start === y.end) return y.start > x.start && y.start < x.end;
  return x.start < y.end && y.start < x.end;
}

/**
 * Three-way merge: the changes base→ours and base→theirs together, when they touch different
 * lines; identical changes are taken once. Undefined when changes overlap.
 */
export function merge3(
  base: readonly string[],
  ours: readonly string[],
  theirs: readonly string[],
): string[] | undefined {
  const a = diffLines(base, ours);
  const b = diffLines(base, theirs);
  const merged: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x !== undefined && y !== undefined) {
      if (sameHunk(x, y)) {
        merged.push(x);
        i++;
        j++;
        continue;
      }
      if (overlaps(x, y)) return undefined;
      if (x.start < y.start || (x.start === y.start && x.end <= y.end)) {
        merged.push(x);
        i++;
      } else {
        merged.push(y);
        j++;
      }
    } else if (x !== undefined) {
      merged.push(x);
      i++;
    } else {
      merged.push(y!);
      j++;
    }
  }
  return applyHunks(base, merged);
}
