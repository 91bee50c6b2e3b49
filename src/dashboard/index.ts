/**
 * @module dashboard — what people watch: a live page served by jitd on loopback (working sets,
 * history, agents, negotiations, the audit trail, throughput and latency), the Prometheus
 * `/metrics` endpoint, and the live model both are fed from.
 */

export {
  type AgentView,
  type LiveEvent,
  LiveModel,
  type NegotiationView,
  type Numbered,
} from './live.js';
export { JitMetrics, type KernelCounts } from './metrics.js';
export {
  type AuditStatus,
  AuditWatch,
  type DiffLine,
  type HistoryNode,
  history,
  pathDiff,
} from './reads.js';
export {
  type Counts,
  Dashboard,
  type DashboardOptions,
  DEFAULT_DASHBOARD_PORT,
  type Tick,
} from './server.js';
