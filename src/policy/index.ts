/**
 * @module policy — the ACL (DESIGN §7, RFC-0020 §5): rules `allow|deny(who, action, resource)`,
 * the built-in limits of each role (the `restricted` sandbox among them) and their deterministic
 * evaluation. Pure: the kernel keeps the rules (WAL-logged) and the RPC server and the plane ask.
 * Depends on codec and identity.
 */
export {
  AclConflictError,
  AclDeniedError,
  AclInputError,
  LimitsInputError,
  NotLoggedInError,
  RateLimitedError,
} from './errors.js';
export {
  COMMAND_TOPIC,
  checkLimits,
  commandCount,
  DEFAULT_LIMITS,
  Limiter,
  type LimitsConfig,
  type Rate,
  type RoleLimits,
  TokenBucket,
} from './limits.js';
export {
  builtinText,
  type Decision,
  type MembershipLookup,
  Policy,
  type Subject,
} from './policy.js';
export { BUILTIN, type RoleEntry, swsOfResource } from './roles.js';
export {
  ACTIONS,
  type AclRule,
  type Action,
  canonicalRules,
  checkRule,
  decodeRules,
  type Effect,
  encodeRules,
  parseRulesFile,
  type Role,
  rulesFileText,
  ruleText,
} from './rules.js';
