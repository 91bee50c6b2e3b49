/**
 * The JSON data model, checked: what survives a trip to JSON and back unchanged (so a digest or
 * signature over the canonical CBOR of a value still holds after an export). Used by the JITNA
 * validator, the intent language and the kernel's audit events.
 */

/** A JSON object as decoding makes it: a plain object, not an array, byte string or class. */
export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)
  );
}

/** Why `v` is not a JSON value (a byte string, a bigint, NaN…), or undefined. */
export function jsonProblem(v: unknown, at: string, depth = 0): string | undefined {
  if (depth > 64) return `${at} is nested more than 64 deep`;
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `${at} is ${String(v)}, which JSON cannot hold`;
    // larger whole numbers do not survive JSON in JavaScript, nor the trip to CBOR and back
    if (Number.isInteger(v) && !Number.isSafeInteger(v))
      return `${at} is a whole number beyond ±(2^53 − 1); send it as a string`;
    return undefined;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = jsonProblem(v[i], `${at}[${i}]`, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (isPlainMap(v)) {
    for (const k of Object.keys(v)) {
      const p = jsonProblem(v[k], `${at}.${k}`, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  const what = v instanceof Uint8Array ? 'a byte string' : typeof v;
  return `${at} is ${what}, which JSON cannot hold`;
}

/**
 * JSON text of a decoded value for people and scripts: byte strings as lowercase hex (a Buffer's
 * own toJSON would give `{type, data}`), bigints as decimal strings.
 */
export function toJsonText(v: unknown, indent?: number): string {
  return JSON.stringify(hexBytes(v), null, indent);
}

function hexBytes(v: unknown): unknown {
  if (v instanceof Uint8Array)
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(hexBytes);
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = hexBytes(x);
    return out;
  }
  return v;
}
