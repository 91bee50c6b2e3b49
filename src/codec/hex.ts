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

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses lowercase hex; returns undefined for odd length, uppercase or non-hex characters. */
export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0) return undefined;
  if (s.length === 64) return HASH_HEX.test(s) ? new Uint8Array(Buffer.from(s, 'hex')) : undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(s.charCodeAt(2 * i));
    const lo = nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** True when `s` is a hash in its text form: 64 lowercase hex characters, no prefix. */
export function isHashHex(s: unknown): s is string {
  return typeof s === 'string' && HASH_HEX.test(s);
}
