/**
 * The RPC error code table (RFC-0013 §6, DESIGN §5). Every error that crosses a wire carries one of
 * these codes. Codes 1–10 and 500 are the RFC's; codes above 10 are ours and documented in
 * docs/INTERNALS.md. Numbers are frozen: never renumber, only add.
 */
export const ErrorCode = {
  E_INVALID_OP: 1,
  E_BAD_PAYLOAD: 2,
  E_CHECKSUM_FAIL: 3,
  E_INVARIANT_VIOLATION: 4,
  E_NOT_FOUND: 5,
  E_REF_CONFLICT: 6,
  E_REWRITE_ERROR: 7,
  E_ACCESS_DENIED: 8,
  E_SWS_INVALID: 9,
  E_COLLAPSE_FAIL: 10,
  E_UNAVAILABLE: 11,
  E_CONFLICT: 12,
  E_RATE_LIMITED: 13,
  E_STALE_STREAM: 14,
  E_INTERNAL_ERROR: 500,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeNumber = (typeof ErrorCode)[ErrorCodeName];

const byNumber = new Map<number, ErrorCodeName>(
  (Object.keys(ErrorCode) as ErrorCodeName[]).map((k) => [ErrorCode[k], k]),
);

/** The code name for a wire number, or undefined for a number this version does not know. */
export function errorCodeName(code: number): ErrorCodeName | undefined {
  return byNumber.get(code);
}
