import type { CborValue } from '../codec/index.js';
import { isHashHex } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import { PatchInputError } from '../kernel/index.js';

/**
 * The JSON form of a patch (what `jit sws patch` reads): as the CBOR form, but
 * - `content` is text (UTF-8) or `{"base64": "..."}`;
 * - blob ids (`expect`, `base`) are 64-hex strings; `expect: null` means "must not exist";
 * - `author` may be left out (the CLI's agent is used).
 * Example: {"ops":[{"op":"put","path":"src/a.txt","content":"hello\n"}]}
 */
export function patchFromJson(json: unknown, author: string): CborValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new PatchInputError('a JSON patch is an object {ops, author?, note?, nonce?}');
  const p = json as Record<string, unknown>;
  if (!Array.isArray(p.ops)) throw new PatchInputError('patch.ops must be an array');
  const ops = p.ops.map((o, i): CborValue => {
    if (o === null || typeof o !== 'object')
      throw new PatchInputError(`ops[${i}] must be an object`);
    const out: Record<string, CborValue> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (k === 'content') out.content = contentOf(v, `ops[${i}].content`);
      else if (k === 'expect') out.expect = v === null ? null : idOf(v, `ops[${i}].expect`);
      else if (k === 'base') out.base = idOf(v, `ops[${i}].base`);
      else out[k] = v as CborValue;
    }
    return out;
  });
  const out: Record<string, CborValue> = {
    ops,
    author: typeof p.author === 'string' ? p.author : author,
  };
  if (p.note !== undefined) out.note = p.note as CborValue;
  if (p.nonce !== undefined) out.nonce = p.nonce as CborValue;
  return out;
}

function contentOf(v: unknown, where: string): Uint8Array {
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { base64?: unknown }).base64 === 'string'
  ) {
    return new Uint8Array(Buffer.from((v as { base64: string }).base64, 'base64'));
  }
  throw new PatchInputError(`${where} must be text or {"base64": "..."}, not ${describeValue(v)}`);
}

function idOf(v: unknown, where: string): Uint8Array {
  if (!isHashHex(v)) throw new PatchInputError(`${where} must be a 64-hex blob id`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}
