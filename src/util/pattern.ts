/**
 * Dot-separated names and their patterns, NATS style: `*` stands for one token, `>` (last only)
 * for one or more. Topics, ACL actions and ACL resources all use them. These functions take
 * strings their callers have already checked; they never throw.
 */

/** True when `pattern` has no wildcard (it names exactly one thing). */
export function isLiteral(pattern: string): boolean {
  return !pattern.split('.').some((t) => t === '*' || t === '>');
}

/** A matcher for `pattern`; a literal pattern compares whole strings. */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const ps = pattern.split('.');
  if (!ps.includes('*') && ps.at(-1) !== '>') return (n) => n === pattern;
  return (name) => {
    const ts = name.split('.');
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (p === '>') return ts.length > i;
      if (i >= ts.length) return false;
      if (p !== '*' && p !== ts[i]) return false;
    }
    return ts.length === ps.length;
  };
}

/**
 * True when every name `inner` matches is also matched by `outer` (so a grant on `outer` covers a
 * subscription to `inner`). `jit.>` covers `jit.sws.*.status`; `jit.sws.*.status` does not cover
 * `jit.>`.
 */
export function patternCovers(outer: string, inner: string): boolean {
  const os = outer.split('.');
  const is = inner.split('.');
  for (let i = 0; i < os.length; i++) {
    const o = os[i]!;
    if (o === '>') return is.length > i;
    if (i >= is.length) return false;
    const t = is[i]!;
    if (t === '>') return false;
    if (o !== '*' && o !== t) return false;
  }
  return is.length === os.length;
}
