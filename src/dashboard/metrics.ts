import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CborValue } from '../codec/index.js';
import { JitError } from '../errors/index.js';
import type { Kernel } from '../kernel/index.js';
import type { Bridge, Plane } from '../mp/index.js';
import type { Handler } from '../rpc/index.js';
import { within } from '../util/time.js';

/** Seconds, from 100 µs to 2.5 s: a patch acknowledgement, a WAL sync, a commit. */
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** The ops whose successes the kernel counts by name (the rest only as RPC requests). */
const COUNTED = {
  'shadow.apply_patch': 'patches',
  'shadow.commit': 'commits',
  'collapse.commit': 'commits',
  'shadow.create': 'created',
  'shadow.discard': 'discarded',
} as const;

/** What the kernel has done since jitd started (the live charts take per-second differences). */
export interface KernelCounts {
  patches: number;
  commits: number;
  created: number;
  discarded: number;
  /** Patches and commits refused with a conflict. */
  conflicts: number;
  requests: number;
  errors: number;
}

/** Durations of one op kept between two ticks (bounded: past the cap, every other one is kept). */
class Window {
  private samples: number[] = [];
  private stride = 1;
  private seen = 0;
  private readonly cap: number;
  constructor(cap: number) {
    this.cap = cap;
  }
  add(seconds: number): void {
    if (this.seen++ % this.stride !== 0) return;
    this.samples.push(seconds);
    if (this.samples.length >= this.cap) {
      this.samples = this.samples.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }
  /** p50 and p99 in ms of what was added since the last call (null when nothing was). */
  take(): { p50: number; p99: number } | null {
    const s = this.samples.sort((a, b) => a - b);
    this.samples = [];
    this.stride = 1;
    this.seen = 0;
    if (s.length === 0) return null;
    const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 1000;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

/** A metric as prom-client's registry reads it (`getForPromString`). */
interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: readonly {
    readonly labels: Readonly<Record<string, string | number>>;
    readonly sharedLabels: Readonly<Record<string, string>>;
    readonly value: number;
    readonly metricName: string;
  }[];
}

/**
 * A histogram by one label whose children are bound once (per op, when instrumented) and observed
 * with a bucket search and three additions: prom-client's `observe` validates and hashes the
 * labels on every call, a measurable share of a cheap RPC. The registry reads it in prom-client's
 * own export shape, so the exposition is the same.
 */
class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly label: string;
  private readonly bounds: readonly number[];
  private readonly children = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, label: string, bounds: readonly number[], r: Registry) {
    this.name = name;
    this.help = help;
    this.label = label;
    this.bounds = bounds;
    r.registerMetric(this as unknown as Histogram);
  }

  /** The observer of the child labelled `value` (seconds); it is exported once observed. */
  child(value: string): (seconds: number) => void {
    const child = { counts: this.bounds.map(() => 0), sum: 0, count: 0 };
    const bounds = this.bounds;
    return (x) => {
      if (child.count === 0) this.children.set(value, child);
      child.sum += x;
      child.count++;
      for (let i = 0; i < bounds.length; i++) {
        if (x <= bounds[i]!) {
          child.counts[i]!++;
          return;
        }
      }
    };
  }

  async getForPromString(): Promise<Exported> {
    const values: Exported['values'][number][] = [];
    const bucket = `${this.name}_bucket`;
    for (const [v, c] of this.children) {
      const shared = { [this.label]: v };
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += c.counts[i]!;
        values.push({ labels: { le }, sharedLabels: shared, value: acc, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: c.count, metricName: bucket },
        { labels: {}, sharedLabels: shared, value: c.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: c.count, metricName: `${this.name}_count` },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  get(): Promise<Exported> {
    return this.getForPromString();
  }
}

/**
 * jitd's Prometheus metrics (`/metrics`): RPC requests, errors and latency by op (which counts
 * every command, from a socket or from the plane through the bridge), patches, commits and
 * conflicts, WAL group-commit latency and queued bytes, the DAG's size, open SWSs, the plane's
 * published, delivered and rejected messages (by reason), the bridge's queue, refusals by the
 * ACL and the rate limiter, and whether the plane's transport is connected. Counters kept
 * elsewhere (the plane's, the limiter's) are read when scraped. Nothing here is hashed or logged.
 */
export class JitMetrics {
  readonly registry = new Registry();
  readonly counts: KernelCounts = {
    patches: 0,
    commits: 0,
    created: 0,
    discarded: 0,
    conflicts: 0,
    requests: 0,
    errors: 0,
  };
  private readonly patchWindow = new Window(8192);
  private readonly syncWindow = new Window(1024);
  /** Calls by op (read when scraped). */
  private readonly calls = new Map<string, { n: number }>();
  private readonly errors: Counter<'op' | 'code'>;
  private readonly duration: BoundHistogram;
  private readonly walSync: Histogram;

  constructor() {
    const registers = [this.registry];
    mirror(
      registers,
      'jit_rpc_requests_total',
      'Kernel operations called (over RPC or from the plane through the bridge), by op',
      () => [...this.calls].filter(([, c]) => c.n > 0).map(([op, c]) => [{ op }, c.n]),
      ['op'],
    );
    this.errors = new Counter({
      name: 'jit_rpc_errors_total',
      help: 'Kernel operations that answered with an error, by op and error code',
      labelNames: ['op', 'code'],
      registers,
    });
    this.duration = new BoundHistogram(
      'jit_rpc_duration_seconds',
      'Time from a call reaching the kernel to its (durable) answer, by op',
      'op',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.walSync = new Histogram({
      name: 'jit_wal_sync_seconds',
      help: 'Time of one WAL group commit (write and fdatasync)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const counts = this.counts;
    for (const [key, help] of [
      ['patches', 'Patches applied to shadow working sets'],
      ['commits', 'Shadow working sets collapsed into snapshots'],
      ['conflicts', 'Patches and commits refused with a conflict'],
      ['created', 'Shadow working sets created'],
      ['discarded', 'Shadow working sets discarded'],
    ] as const)
      mirror(registers, `jit_kernel_${key}_total`, help, () => [[{}, counts[key]]]);
  }

  /**
   * Wraps every handler to count its calls, errors (by code) and latency. Wrap the table the RPC
   * servers and the bridge share, after the guard, so refusals are counted too. `done` hears of
   * every answered call (the live model).
   */
  instrument(
    handlers: Map<string, Handler>,
    done?: (op: string, payload: CborValue, result: CborValue, by: string | null) => void,
  ): void {
    for (const [op, h] of handlers) {
      const counted = (COUNTED as Record<string, keyof KernelCounts | undefined>)[op];
      const calls = { n: 0 };
      this.calls.set(op, calls);
      const observe = this.duration.child(op);
      handlers.set(op, async (payload, ctx) => {
        const started = performance.now();
        calls.n++;
        this.counts.requests++;
        try {
          const r = await h(payload, ctx);
          const s = (performance.now() - started) / 1000;
          observe(s);
          if (counted !== undefined) {
            this.counts[counted]++;
            if (counted === 'patches') this.patchWindow.add(s);
          }
          try {
            done?.(op, payload, r, ctx.session.agent ?? null);
          } catch {
            // the display model never fails a call
          }
          return r;
        } catch (e) {
          const code = e instanceof JitError ? e.codeName : 'E_INTERNAL_ERROR';
          this.errors.labels(op, code).inc();
          this.counts.errors++;
          if ((code === 'E_CONFLICT' || code === 'E_COLLAPSE_FAIL') && counted !== undefined)
            this.counts.conflicts++;
          throw e;
        }
      });
    }
  }

  /** The kernel's gauges and its WAL's group commits. */
  watchKernel(kernel: Kernel): void {
    const store = kernel.store;
    store.observeWalSyncs((seconds) => {
      this.walSync.observe(seconds);
      this.syncWindow.add(seconds);
    });
    const registers = [this.registry];
    gauge(registers, 'jit_dag_nodes', 'Nodes in the DAG', () => store.reader.size);
    gauge(registers, 'jit_wal_bytes', 'Durable size of the write-ahead log', () => store.walBytes);
    gauge(
      registers,
      'jit_wal_pending_bytes',
      'Bytes admitted to the WAL and waiting for their group commit (its queue)',
      () => store.walStats.pendingBytes,
    );
    mirror(registers, 'jit_wal_syncs_total', 'WAL group commits', () => [
      [{}, store.walStats.syncs],
    ]);
    gauge(
      registers,
      'jit_sws_active',
      'Shadow working sets open (ACTIVE)',
      () => kernel.swsCounts().active,
    );
  }

  /**
   * The kernel's plane: its counters, the bridge's queue and the transport's health (labelled
   * `transport`: native, nats, redis or mqtt).
   */
  watchPlane(plane: Plane, bridge: Bridge, transportName: string): void {
    const registers = [this.registry];
    const s = plane.stats;
    mirror(registers, 'jit_plane_published_total', 'Messages the kernel published', () => [
      [{}, s.published],
    ]);
    mirror(registers, 'jit_plane_delivered_total', 'Messages delivered to the kernel', () => [
      [{}, s.delivered],
    ]);
    mirror(
      registers,
      'jit_plane_rejected_total',
      'Messages the kernel refused, by reason',
      () => Object.entries(s.rejected).map(([reason, n]) => [{ reason }, n]),
      ['reason'],
    );
    mirror(
      registers,
      'jit_plane_dead_lettered_total',
      'Messages sent to a dead-letter topic',
      () => [[{}, s.deadLettered]],
    );
    mirror(registers, 'jit_plane_gaps_total', 'Gaps reported in per-sender streams', () => [
      [{}, s.gaps],
    ]);
    mirror(
      registers,
      'jit_bridge_replayed_total',
      'Commands the bridge recognised as replays, by how: answered again from the kept answer, or refused by the stream marks (old-stream, behind-mark)',
      () => Object.entries(bridge.replayed).map(([how, n]) => [{ how }, n]),
      ['how'],
    );
    gauge(
      registers,
      'jit_bridge_pending',
      'Plane commands in hand and notifications not yet published (the bridge queue)',
      () => bridge.pending,
    );
    const transport = plane.transport;
    new Gauge({
      name: 'jit_transport_up',
      help: 'The plane transport is connected (1) or not (0), by transport',
      labelNames: ['transport'],
      registers,
      async collect() {
        const h = await within(transport.health(), 1000, { connected: false, detail: 'no answer' });
        this.set({ transport: transportName }, h.connected ? 1 : 0);
      },
    });
  }

  /** Refusals: by the ACL (`denied`) and by the rate limiter (by which bucket ran dry). */
  watchRefusals(denied: () => number, rateLimited: () => Record<string, number>): void {
    const registers = [this.registry];
    mirror(registers, 'jit_acl_denied_total', 'Calls and messages the ACL refused', () => [
      [{}, denied()],
    ]);
    mirror(
      registers,
      'jit_rate_limited_total',
      'Calls and messages the rate limiter refused, by bucket',
      () => Object.entries(rateLimited()).map(([bucket, n]) => [{ bucket }, n]),
      ['bucket'],
    );
  }

  /** Patch acknowledgement and WAL sync percentiles (ms) since the last call; for live charts. */
  takeLatencies(): {
    patch: { p50: number; p99: number } | null;
    sync: { p50: number; p99: number } | null;
  } {
    return { patch: this.patchWindow.take(), sync: this.syncWindow.take() };
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

type Labels = Record<string, string>;

/** A counter whose value lives elsewhere, read when scraped. */
function mirror(
  registers: Registry[],
  name: string,
  help: string,
  read: () => [Labels, number][],
  labelNames: string[] = [],
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}

function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}
