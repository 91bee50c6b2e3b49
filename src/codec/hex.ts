/** Lowercase hex, the only text form of hashes and ids (DESIGN §3). */

const digits = '0123456789abcdef';
const HASH_HEX = /^[0-9a-f]{64}$/;

/** ASCII codes of the two hex digits of each byte value. */
const PAIRS = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  PAIRS[2 * i] = digits.charCodeAt(i >> 4);
  PAIRS[2 * i + 1] = digits.charCodeAt(i & 15);
}
/** Where the digits of ids are spelled before they become a string (ids are made per request). */
const spell = Buffer.allocUnsafe(128);

/** Lowercase hex of `bytes`: ids (up to 64 bytes) spelled by table, longer inputs by Buffer. */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length * 2;
  if (n > spell.length)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i]! * 2;
    spell[2 * i] = PAIRS[v]!;
    spell[2 * i + 1] = PAIRS[v + 1]!;
  }
  return spell.toString('latin1', 0, n);
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
