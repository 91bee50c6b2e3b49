/**
 * @module sdk — what an agent program uses: connect with a key to a plane, open or join a shadow
 * working set, publish patches and commits and await the kernel's answers, exchange findings.
 */

export { type AclSource, AclView } from './acl-view.js';
export { Agent, type AgentOptions, type Finding } from './agent.js';
export {
  Assembler,
  type AssemblerOptions,
  type AssemblyRequest,
  type KernelCalls,
  type Role,
  type TransactionRecord,
  verifierAnswer,
} from './assembly.js';
export {
  type AuditHead,
  fetchAuditTrail,
  fetchTrust,
  type RpcCalls,
} from './audit-trail.js';
export {
  type Call,
  type Capabilities,
  inboxTopic,
  JitnaAgent,
  type JitnaAgentOptions,
  type NegotiationResult,
  type Proposal,
  type ProposalAnswer,
  REGISTRY_TOPIC,
  type Task,
} from './jitna-agent.js';
