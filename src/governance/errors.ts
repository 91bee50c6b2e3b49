import { JitError } from '../errors/index.js';

/** A 6-field intent record that breaks the schema; `details.problems` lists each field's fault. */
export class IntentInvalidError extends JitError {
  override readonly name = 'IntentInvalidError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** An intent template that is not in the library, or data that does not fill it. */
export class TemplateError extends JitError {
  override readonly name = 'TemplateError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** An FDIA input outside its profile's range (or not a finite number), or a bad threshold. */
export class FdiaRangeError extends JitError {
  override readonly name = 'FdiaRangeError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A quorum asked for with a tier that does not exist, or a vote or verdict that is malformed. */
export class QuorumInputError extends JitError {
  override readonly name = 'QuorumInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** A verdict whose signature, or whose tally recomputed from its own votes, does not hold. */
export class VerdictRefusedError extends JitError {
  override readonly name = 'VerdictRefusedError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}
