export { type Approval, approvalBytes, approvalProblem, approve } from './approval.js';
export {
  Codex,
  type CodexOptions,
  type CodexOutcome,
  DEFAULT_LIMITS,
  describeRefusal,
  type Work,
} from './pipeline.js';
export { REDACTED, redact, redactText } from './redact.js';
export {
  ADMISSION,
  type Interceptor,
  PROTECTED_PATH,
  ROLE_MAX_LEVEL,
  requestOf,
  SECURITY_ACTIONS,
  SECURITY_OPS,
} from './rules.js';
export {
  type AuditSink,
  CODEX_RULES,
  type CodexContext,
  type CodexRefusal,
  type CodexRule,
  type Executor,
  type Limits,
} from './types.js';
