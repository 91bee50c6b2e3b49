/**
 * The JavaScript value model of canonical CBOR (DESIGN §3):
 * - `null`, booleans;
 * - numbers: an integral number is a CBOR integer, anything else (including ±Infinity and NaN) a
 *   float64; integers outside ±(2^53 − 1) decode as `bigint` (encode either form);
 * - `bigint` for integers in [−2^64, 2^64 − 1];
 * - text (well-formed UTF-16, so valid UTF-8 on the wire), byte strings as `Uint8Array`;
 * - arrays, and plain objects whose keys are text (CBOR maps with text keys).
 * An object property whose value is `undefined` is left out, as in JSON; `undefined` anywhere else
 * is refused.
 */
export type CborValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly CborValue[]
  | { readonly [key: string]: CborValue | undefined };

export type CborMap = { readonly [key: string]: CborValue | undefined };
