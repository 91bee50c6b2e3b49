import { type CborValue, decode, encode, encodeFrame } from '../codec/index.js';
import { BadRequestError, type WireError } from './errors.js';

/**
 * RPC envelopes (RFC-0007, DESIGN §5), canonical CBOR inside JS-ABI frames:
 *   request  {op, ts, rid, payload}
 *   response {rid, status: "OK", result} | {rid, status: "ERR", error: {code, name, message, details}}
 *   push     {rid, status: "PUSH", result}: more for a streaming request (a subscription), any
 *            number of times after its OK
 * `rid` pairs answers with requests, so many share one connection; `ts` is the client's clock and
 * only advisory (the kernel assigns its own).
 */
export interface Request {
  readonly op: string;
  readonly ts: number;
  readonly rid: number;
  readonly payload: CborValue;
}

export type Response =
  | { readonly rid: number; readonly status: 'OK'; readonly result: CborValue }
  | { readonly rid: number; readonly status: 'ERR'; readonly error: WireError }
  | { readonly rid: number; readonly status: 'PUSH'; readonly result: CborValue };

function isMap(v: CborValue | undefined): v is Record<string, CborValue> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const uint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Decodes a request envelope; `rid` is -1 in the error when the envelope has none. */
export function decodeRequest(bytes: Uint8Array): Request {
  const v = decode(bytes);
  if (!isMap(v))
    throw new BadRequestError('a request is a map {op, ts, rid, payload}', { rid: -1 });
  const rid = uint(v.rid) ? v.rid : -1;
  if (rid < 0) throw new BadRequestError('request rid must be a non-negative integer', { rid: -1 });
  if (typeof v.op !== 'string' || v.op.length === 0 || v.op.length > 64) {
    throw new BadRequestError('request op must be a non-empty string', { rid });
  }
  if (!uint(v.ts)) throw new BadRequestError('request ts must be a non-negative integer', { rid });
  for (const k of Object.keys(v)) {
    if (k !== 'op' && k !== 'ts' && k !== 'rid' && k !== 'payload')
      throw new BadRequestError(`unknown request key "${k}"`, { rid });
  }
  return { op: v.op, ts: v.ts, rid, payload: v.payload === undefined ? null : v.payload };
}

export function encodeRequestFrame(r: Request): Uint8Array {
  return encodeFrame(encode({ op: r.op, ts: r.ts, rid: r.rid, payload: r.payload }));
}

export function encodeResponseFrame(r: Response): Uint8Array {
  const body =
    r.status !== 'ERR'
      ? { rid: r.rid, status: r.status, result: r.result }
      : { rid: r.rid, status: r.status, error: { ...r.error, details: r.error.details } };
  return encodeFrame(encode(body as CborValue));
}

export function decodeResponse(bytes: Uint8Array): Response {
  const v = decode(bytes);
  if (
    !isMap(v) ||
    !uint(v.rid) ||
    (v.status !== 'OK' && v.status !== 'ERR' && v.status !== 'PUSH')
  ) {
    throw new BadRequestError('a response is a map {rid, status, result | error}');
  }
  if (v.status !== 'ERR')
    return { rid: v.rid, status: v.status, result: v.result === undefined ? null : v.result };
  const e = v.error;
  if (!isMap(e) || typeof e.code !== 'number' || typeof e.message !== 'string') {
    throw new BadRequestError('an error response carries {code, name, message}');
  }
  return {
    rid: v.rid,
    status: 'ERR',
    error: {
      code: e.code,
      name: String(e.name),
      message: e.message,
      details: (isMap(e.details ?? null) ? e.details : {}) as WireError['details'],
    },
  };
}
