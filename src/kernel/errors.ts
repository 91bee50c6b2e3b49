import { JitError } from '../errors/index.js';

/** No SWS with this id. */
export class SwsNotFoundError extends JitError {
  override readonly name = 'SwsNotFoundError';
  readonly codeName = 'E_NOT_FOUND' as const;
}

/** The SWS is not ACTIVE (collapsed, discarded or invalidated): it accepts nothing more. */
export class SwsStateError extends JitError {
  override readonly name = 'SwsStateError';
  readonly codeName = 'E_SWS_INVALID' as const;
}

/** A patch is malformed (unknown op, bad path, bad hunk). Nothing was applied. */
export class PatchInputError extends JitError {
  override readonly name = 'PatchInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A patch's `expect` does not hold, or it touches a conflicted path. Nothing was applied. */
export class PatchConflictError extends JitError {
  override readonly name = 'PatchConflictError';
  readonly codeName = 'E_CONFLICT' as const;
}

/** Only the SWS owner or a delegate may commit or discard it. */
export class AccessDeniedError extends JitError {
  override readonly name = 'AccessDeniedError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** The collapse found conflicts it cannot resolve; the SWS stays ACTIVE for a `resolve`. */
export class CollapseConflictError extends JitError {
  override readonly name = 'CollapseConflictError';
  readonly codeName = 'E_COLLAPSE_FAIL' as const;
  readonly conflicts: readonly { path: string; kind: string }[];

  constructor(conflicts: readonly { path: string; kind: string }[]) {
    super(
      `collapse found ${conflicts.length} conflict(s): ${conflicts.map((c) => `${c.path} (${c.kind})`).join(', ')}`,
      {
        conflicts: conflicts.length,
      },
    );
    this.conflicts = conflicts;
  }
}

/** The kernel stopped (closed, or failed and must be restarted to recover by replay). */
export class KernelClosedError extends JitError {
  override readonly name = 'KernelClosedError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}

/** An audit event that is not a map with a `type`, or is too large. Nothing was appended. */
export class AuditEventError extends JitError {
  override readonly name = 'AuditEventError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** `jit/audit` points at a node that holds no audit entry: the store was changed behind the kernel. */
export class AuditChainError extends JitError {
  override readonly name = 'AuditChainError';
  readonly codeName = 'E_INVARIANT_VIOLATION' as const;
}
