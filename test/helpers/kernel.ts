import type { Kernel } from '../../src/kernel/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | null): string | null =>
  b === null ? null : new TextDecoder().decode(b);
export const idBytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/** A put op (text content). */
export const put = (
  path: string,
  text: string,
  expect?: string | null,
): Record<string, unknown> => ({
  op: 'put',
  path,
  content: enc(text),
  ...(expect === undefined ? {} : { expect: expect === null ? null : idBytes(expect) }),
});

export const patch = (...ops: Record<string, unknown>[]): { author: string; ops: never[] } => ({
  author: 'test',
  ops: ops as never[],
});

/** Reads a file's text in an SWS, or null. */
export async function text(k: Kernel, sws: string, path: string): Promise<string | null> {
  return dec((await k.read(sws, path)).content);
}

/** Commits `files` onto main through an SWS. */
export async function seedMain(k: Kernel, files: Record<string, string>): Promise<void> {
  const { id } = await k.create({ ref: 'main', owner: 'seed' });
  const ops = Object.entries(files).map(([p, t]) => put(p, t));
  if (ops.length > 0) await k.applyPatch(id, patch(...ops) as never);
  await k.commit(id, 'seed', 'seed');
}
