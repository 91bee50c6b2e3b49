/** What the dashboard's API answers (see src/dashboard/). */

export interface LiveEvent {
  readonly n: number;
  readonly type:
    | 'sws'
    | 'ref'
    | 'audit'
    | 'policy'
    | 'negotiation'
    | 'finding'
    | 'agent'
    | 'kernel';
  readonly [k: string]: unknown;
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

export interface AgentView {
  readonly agent: string;
  readonly card: {
    readonly name?: string;
    readonly version?: string;
    readonly supported_actions?: string[];
    readonly supported_formats?: string[];
    readonly load?: number;
    readonly status?: string;
  } | null;
  readonly health: string;
  readonly securityLevel: number | null;
  readonly rate: number;
  readonly messages: number;
  readonly silentMs: number;
}

export interface NegotiationView {
  readonly conversation: string;
  readonly initiator: string;
  readonly responder: string;
  readonly state: string;
  readonly action: string | null;
  readonly steps: number;
  readonly ageMs: number;
}

export interface Tick {
  readonly t: number;
  readonly rates: Record<string, number>;
  readonly latency: { readonly patch: Latency | null; readonly sync: Latency | null };
  readonly agents: AgentView[];
  readonly negotiations: NegotiationView[];
  readonly open: number;
  readonly n: number;
}

export interface Annotation {
  readonly author: string;
  readonly path: string;
  readonly severity: string;
  readonly message: string;
}

export interface Sws {
  readonly id: string;
  readonly state: string;
  readonly owner: string;
  readonly members: string[];
  readonly base_ref: string;
  readonly patches: number;
  readonly changed: number;
  readonly conflicts: string[];
  readonly annotations: Annotation[];
  readonly result: { snapshot: string; rewrite: string | null; ref: string } | null;
}

export interface Change {
  readonly path: string;
  readonly change: string;
}

export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

export interface HistoryNode {
  readonly id: string;
  readonly type: 'snapshot' | 'rewrite';
  readonly lamport: number;
  readonly author: string | null;
  readonly message: string | null;
  readonly sws: string | null;
  readonly parents: string[];
  readonly refs: string[];
}

export interface AuditEntry {
  readonly seq: number;
  readonly digest: string;
  readonly by: string;
  readonly event: { readonly type?: string; readonly [k: string]: unknown };
  readonly signer?: string;
}

export interface AuditStatus {
  readonly verified: boolean;
  readonly problem: string | null;
  readonly head: { seq: number; digest: string } | null;
  readonly count: number;
  readonly recent: AuditEntry[];
}
