import { type CborValue, decode, encode } from '../codec/index.js';
import { PacketInputError } from './errors.js';
import { FIELDS, type JitnaPacket } from './packet.js';

/**
 * The two forms of a packet: canonical CBOR on the plane (what is signed, sign.ts) and JSON for
 * everything else. They hold the same JSON values, so each converts to the other losslessly
 * (whole numbers beyond ±(2^53 − 1), byte strings and NaN are refused by the validator for that
 * reason).
 */

/** The canonical CBOR form (DESIGN §3: one encoding per value). */
export function packetToCbor(p: JitnaPacket): Uint8Array {
  return encode(p as unknown as CborValue);
}

/** Reads the CBOR form; not validated (`validatePacket`). Throws PacketInputError. */
export function packetFromCbor(b: Uint8Array): JitnaPacket {
  let v: CborValue;
  try {
    v = decode(b);
  } catch (e) {
    throw new PacketInputError(
      `not a canonical CBOR packet: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
  return asPacket(v);
}

const ORDER = new Map(FIELDS.map((f, i) => [f, i]));

/**
 * Sets an own property, whatever its name: `o[k] = v` with k `"__proto__"` would set the
 * prototype instead, and the key would be lost.
 */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A JSON value with every map's keys sorted (one text per value). */
export function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort())
      setOwn(o, k, sortedJson((v as Record<string, unknown>)[k]));
    return o;
  }
  return v;
}

/**
 * The JSON form: the packet's fields in the schema's order (unknown ones after, sorted), maps
 * inside with sorted keys, so that one packet has one JSON text. `indent` for people.
 */
export function packetToJson(p: JitnaPacket, indent?: number): string {
  const keys = Object.keys(p)
    .filter((k) => (p as unknown as Record<string, unknown>)[k] !== undefined)
    .sort((a, b) => (ORDER.get(a) ?? 1e9) - (ORDER.get(b) ?? 1e9) || (a < b ? -1 : a > b ? 1 : 0));
  const o: Record<string, unknown> = {};
  for (const k of keys) setOwn(o, k, sortedJson((p as unknown as Record<string, unknown>)[k]));
  return JSON.stringify(o, null, indent);
}

/** Reads the JSON form; not validated (`validatePacket`). Throws PacketInputError. */
export function packetFromJson(text: string): JitnaPacket {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PacketInputError(`not JSON: ${(e as Error).message}`, {}, { cause: e });
  }
  return asPacket(v);
}

function asPacket(v: unknown): JitnaPacket {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array)
    throw new PacketInputError(
      `a packet is a map of fields, not ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`,
    );
  return v as JitnaPacket;
}
