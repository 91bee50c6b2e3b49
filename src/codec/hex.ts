/** Lowercase hex, the only text form of hashes and ids (DESIGN §3). */

const digits = '0123456789abcdef';
const HASH_HEX = /^[0-9a-f]{64}$/;
const table: string[] = Array.from({ length: 256 }, (_, i) => digits[i >> 4]! + digits[i & 15]!);

export function toHex(bytes: Uint8Array): string {
  if (bytes.length >= 16)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += table[bytes[i]!]!;
  return s;
}

/** Nibble values of the ASCII codes of lowercase hex digits; -1 for every other code below 128. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[digits.charCodeAt(i)] = i;

/**
 * Parses lowercase hex; returns undefined for odd length, uppercase or non-hex characters. One
 * table lookup per character into a fresh array: no regular expression or Buffer (ids are parsed
 * several times per kernel operation).
 */
export function fromHex(s: string): Uint8Array | undefined {
  const n = s.length >> 1;
  if (n * 2 !== s.length) return undefined;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const a = s.charCodeAt(j);
    const b = s.charCodeAt(j + 1);
    const hi = a < 128 ? NIBBLE[a]! : -1;
    const lo = b < 128 ? NIBBLE[b]! : -1;
    if ((hi | lo) < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** True when `s` is a hash in its text form: 64 lowercase hex characters, no prefix. */
export function isHashHex(s: unknown): s is string {
  return typeof s === 'string' && HASH_HEX.test(s);
}
