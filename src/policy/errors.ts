import { JitError } from '../errors/index.js';

/** An ACL rule, rule file or access question is malformed. Nothing was changed. */
export class AclInputError extends JitError {
  override readonly name = 'AclInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}

/** The ACL (a rule, a role's sandbox or SWS membership) refuses this action on this resource. */
export class AclDeniedError extends JitError {
  override readonly name = 'AclDeniedError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** The connection has not logged in (`session.login`), and the op needs an identity. */
export class NotLoggedInError extends JitError {
  override readonly name = 'NotLoggedInError';
  readonly codeName = 'E_ACCESS_DENIED' as const;
}

/** `acl.set` expected other rules than those in force (another admin changed them meanwhile). */
export class AclConflictError extends JitError {
  override readonly name = 'AclConflictError';
  readonly codeName = 'E_CONFLICT' as const;
}

/** A token bucket (the agent's or the topic's) is empty, or a payload is over the role's cap. */
export class RateLimitedError extends JitError {
  override readonly name = 'RateLimitedError';
  readonly codeName = 'E_RATE_LIMITED' as const;
}

/** The limits file is malformed. */
export class LimitsInputError extends JitError {
  override readonly name = 'LimitsInputError';
  readonly codeName = 'E_BAD_PAYLOAD' as const;
}
