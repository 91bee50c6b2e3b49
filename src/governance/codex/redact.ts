/**
 * Codex rule 5: no sensitive data in responses or logs. `redact` returns a copy with the value of
 * every key that names a secret, and every string that looks like key material, replaced by
 * `[REDACTED]`. It is applied to every result an agent returns and every event it logs.
 */
import type { Json } from '../../jitna/index.js';

export const REDACTED = '[REDACTED]';

/** Keys whose values are secrets, whatever they hold. */
const SECRET_KEY =
  /pass(word|wd|phrase)?$|secret|token|api[_-]?key|private[_-]?key|credential|authorization|^auth$|cookie|session[_-]?id|signing[_-]?key|seed$/i;

/** Strings that are key material wherever they appear. */
const SECRET_TEXT: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\bsk-[A-Za-z0-9_-]{20,}\b/g, // API secret keys in the sk- form
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, // GitHub tokens
  /\bxox[baprs]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWTs
  /((?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s"',;&]+/gi, // key=value in text
];

export function redactText(s: string): string {
  let out = s;
  // a pattern with a group keeps it (the `password=` of `password=hunter2`)
  for (const re of SECRET_TEXT)
    out = out.replace(re, (_m, kept: unknown) =>
      typeof kept === 'string' ? `${kept}${REDACTED}` : REDACTED,
    );
  return out;
}

/** A copy of `v` with secrets replaced (keys that name one, strings that are one). */
export function redact<T extends Json | undefined>(v: T): T {
  return walk(v, 0) as T;
}

function walk(v: unknown, depth: number): unknown {
  if (depth > 64) return REDACTED;
  if (typeof v === 'string') return redactText(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const value =
        SECRET_KEY.test(k) && x !== null && typeof x !== 'boolean' ? REDACTED : walk(x, depth + 1);
      Object.defineProperty(out, k, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}
