/**
 * JITNA governance: the 6-field intent language and its templates, the intake, the FDIA gate,
 * quorum verification, security levels (docs/JITNA.md, "Governance").
 */

export {
  type ReplayedDecision,
  type ReplayReport,
  replayAudit,
  TRANSACTION_EVENT,
  type TransactionEvent,
  type TransactionOutcome,
} from './audit-replay.js';
export {
  FdiaRangeError,
  IntentInvalidError,
  QuorumInputError,
  TemplateError,
  VerdictRefusedError,
} from './errors.js';
export {
  DEFAULT_FDIA_THRESHOLD,
  FDIA_RANGES,
  type FdiaDecision,
  type FdiaInput,
  type FdiaOptions,
  type FdiaProfile,
  fdia,
} from './fdia.js';
export {
  Intake,
  type IntakeAnswer,
  type IntakeMetrics,
  type IntakeOptions,
  intakeKey,
} from './intake.js';
export {
  type AnyIntent,
  checkIntent,
  type IntentProblem,
  type IntentRecord,
  intentDigest,
  intentOf,
  intentPayload,
  LORA_ROLES,
  type LoraIntent,
  MAX_FIELD_CHARS,
  MAX_INTENT_BYTES,
  MAX_INTENT_CHARS,
  readCanonicalIntent,
  readIntent,
  type SignedAiIntent,
} from './intent.js';
export {
  checkTemplate,
  INTENT_TEMPLATES,
  type IntentTemplate,
  instantiate,
  type TemplateInput,
  template,
} from './intent-templates.js';
export {
  isRiskLevel,
  isSecurityLevel,
  maxRisk,
  RISK_LEVELS,
  type RiskLevel,
  type RiskSubject,
  SECURITY_LEVEL_MEANING,
  SECURITY_LEVELS,
  type SecurityLevel,
  scoreRisk,
} from './levels.js';
export {
  checkVerdict,
  type Question,
  questionDigest,
  signVerdict,
  signVote,
  type Tally,
  type TallyInput,
  TIER_FOR_RISK,
  TIERS,
  type Tier,
  type TierName,
  tally,
  tier,
  type Verdict,
  type Vote,
  type VoteChoice,
  type VoteRefusal,
  verdictSigningBytes,
  voteSigningBytes,
} from './quorum.js';
