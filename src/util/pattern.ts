/**
 * Dot-separated names and their patterns, NATS style: `*` stands for one token, `>` (last only)
 * for one or more. Topics, ACL actions and ACL resources all use them. These functions take
 * strings their callers have already checked; they never throw.
 */

/** True when `pattern` has no wildcard (it names exactly one thing). */
export function isLiteral(pattern: string): boolean {
  return !pattern.split('.').some((t) => t === '*' || t === '>');
}

/**
 * A matcher for `pattern`; a literal pattern compares whole strings. A wildcard pattern walks the
 * name's tokens in place (no `split` per call: the brokers match every publish against every
 * group's pattern, and jitd's relay spent a tenth of its time in those splits).
 */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const ps = pattern.split('.');
  if (!ps.includes('*') && ps.at(-1) !== '>') return (n) => n === pattern;
  return (name) => {
    // `at` is where the name's token i starts, or -1 once the name has no token i
    let at = 0;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (p === '>') return at !== -1;
      if (at === -1) return false;
      const dot = name.indexOf('.', at);
      const end = dot === -1 ? name.length : dot;
      if (p !== '*' && (end - at !== p.length || !name.startsWith(p, at))) return false;
      at = dot === -1 ? -1 : dot + 1;
    }
    return at === -1;
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
