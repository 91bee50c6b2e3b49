/** Test shorthand: bytes from hex with spaces allowed. */
export function hx(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes from lowercase hex (fixtures). */
export function fromHexLoose(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
