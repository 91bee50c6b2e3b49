import { JitError } from '../errors/index.js';

/** The twelve invariants of RFC-0002 (docs/INTERNALS.md §Invariants), by number. */
export const Invariant = {
  ACYCLICITY: 1,
  APPEND_ONLY: 2,
  IMMUTABILITY: 3,
  CAUSAL_COMPLETENESS: 4,
  MONOTONIC_GROWTH: 5,
  PARENT_CANONICALIZATION: 6,
  SINGLE_UNIVERSE: 7,
  SHADOWS_CANNOT_MUTATE: 8,
  DETERMINISTIC_COLLAPSE: 9,
  REWRITES_CREATE: 10,
  LAMPORT_ORDERING: 11,
  DETERMINISTIC_RECONSTRUCTION: 12,
} as const;
export type InvariantNumber = (typeof Invariant)[keyof typeof Invariant];

/** A node would break an RFC-0002 invariant. Nothing was written. */
export class InvariantViolationError extends JitError {
  override readonly name = 'InvariantViolationError';
  readonly codeName = 'E_INVARIANT_VIOLATION' as const;
  readonly invariant: InvariantNumber;

  constructor(
    invariant: InvariantNumber,
    message: string,
    details: Record<string, string | number> = {},
  ) {
    super(`invariant ${invariant} (RFC-0002): ${message}`, { invariant, ...details });
    this.invariant = invariant;
  }
}

/** The bytes are canonical CBOR but not a well-formed node of a known type. Nothing was written. */
export class NodeFormatError extends JitError {
  override readonly name = 'NodeFormatError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`node ${field}: ${message}`, { field }, options);
    this.field = field;
  }
}

/** No node with this id is in the DAG. */
export class NodeNotFoundError extends JitError {
  override readonly name = 'NodeNotFoundError';
  readonly codeName = 'E_NOT_FOUND' as const;
  readonly id: string;

  constructor(id: string) {
    super(`node ${id} is not in the DAG`, { id });
    this.id = id;
  }
}

/** A second snapshot of the node index while one is open (a checkpoint runs one at a time). */
export class IndexSnapshotOpenError extends JitError {
  override readonly name = 'IndexSnapshotOpenError';
  readonly codeName = 'E_UNAVAILABLE' as const;
}
