import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { JitMetrics, LiveModel } from '../dashboard/index.js';
import {
  KERNEL_AGENT,
  type KeyPair,
  keySigner,
  openHomeIdentity,
  type TrustStore,
} from '../identity/index.js';
import { Kernel } from '../kernel/index.js';
import {
  type Bridge,
  FileAnswers,
  MemoryBroker,
  openTransport,
  Plane,
  PlaneUnavailableError,
  redactUrl,
  relayOps,
  startBridge,
  Topics,
} from '../mp/index.js';
import { commandCount, Limiter, type LimitsConfig } from '../policy/index.js';
import { aclOps, agentOps, guardOps, kernelOps, RpcServer, sessionOps } from '../rpc/index.js';
import { storePaths } from '../store/index.js';
import { JIT_VERSION, socketPath } from '../util/home.js';
import { createLogger, type Logger } from '../util/log.js';
import { perSecond } from '../util/per-second.js';
import { within } from '../util/time.js';
import { reconcileAclFile, writeAclFile } from './acl-file.js';
import { type RunningDashboard, startDashboard } from './dashboard.js';
import { readLimits } from './limits-file.js';

const debug = debuglog('jitd');

/** Refusals reported on jit.kernel.events per second at most (the rest are only counted). */
const REPORTS_PER_S = 100;

/**
 * A checkpoint writes the whole state, so the log grows at least this many times a checkpoint's
 * size between two: the checkpoints' share of the work stays bounded however large the state.
 */
const CHECKPOINT_RATIO = 4;
export interface Jitd {
  readonly home: string;
  readonly address: string;
  readonly kernel: Kernel;
  /** The kernel's signing key (it signs every kernel notification). */
  readonly kernelKey: KeyPair;
  readonly trust: TrustStore;
  /** The in-memory broker behind the native transport. */
  readonly broker: MemoryBroker;
  /** The Prometheus metrics (served at the dashboard's `/metrics`). */
  readonly metrics: JitMetrics;
  /** The dashboard's address, when it runs. */
  readonly dashboardUrl: string | undefined;
  /** Stops serving, checkpoints, closes the log and releases the lock. Idempotent. */
  stop(): Promise<void>;
}

export interface JitdOptions {
  readonly home: string;
  /** Also listen on loopback TCP at this port (0: any free port). */
  readonly tcpPort?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (offset: number, size: number) => void;
  /**
   * Take a checkpoint once the log has grown this many bytes past the last one, or
   * `CHECKPOINT_RATIO` times the last checkpoint's size if that is more, so a boot after a crash
   * replays at most about this much. @default 64 MiB
   */
  readonly checkpointBytes?: number;
  /** How often to look. @default 10 s */
  readonly checkpointEveryMs?: number;
  /**
   * The Message Plane the kernel bridge listens on: a broker URL (`nats://…`). Default: jitd's own
   * relay (the native transport), which needs nothing installed.
   */
  readonly plane?: string;
  /** Rate limits; default: `<home>/limits.json`, else DEFAULT_LIMITS. */
  readonly limits?: LimitsConfig;
  /**
   * Serve the dashboard and `/metrics` on 127.0.0.1 (`port` 0: any free port; default 7420, or
   * the next free one). Off unless given.
   */
  readonly dashboard?: { readonly port?: number; readonly actions?: boolean };
  /** The structured log (jitd logs as components `jitd` and `dashboard`). Default: silent. */
  readonly log?: Logger;
}

function info(kernel: Kernel, home: string, kernelKey: KeyPair): CborValue {
  const store = kernel.store;
  const reader = store.reader;
  const sws = kernel.swsCounts();
  return {
    version: JIT_VERSION,
    home,
    kernel_key: kernelKey.fingerprint,
    node_count: reader.size,
    dag_size: store.walBytes,
    head: store.getRef('main')?.target ?? null,
    refs: store.refs().length,
    sws_active: sws.active,
    sws_total: sws.total,
    last_ts: store.lastTs,
    boot: {
      checkpoint: store.boot.checkpoint,
      replayed: store.boot.replayed,
      truncated: store.boot.truncated,
    },
  };
}

/** Boots the kernel on `home` and serves RPC on `<home>/jitd.sock`. */
export async function startJitd(opts: JitdOptions): Promise<Jitd> {
  const root = opts.log ?? createLogger({ level: 'silent' });
  const log = root.child({ component: 'jitd' });
  let dashboard: RunningDashboard | undefined;
  const kernel = await Kernel.open(opts.home, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const store = kernel.store;
  let identity: Awaited<ReturnType<typeof openHomeIdentity>>;
  try {
    identity = await openHomeIdentity(opts.home, opts.signal ? { signal: opts.signal } : {});
  } catch (e) {
    await kernel.close();
    throw e;
  }
  const { kernelKey, trust } = identity;
  // every audit entry is signed by the kernel: an exported trail proves where it came from
  kernel.auditSigner = keySigner(KERNEL_AGENT, kernelKey);
  let limiter: Limiter;
  try {
    await reconcileAclFile(opts.home, kernel);
    limiter = new Limiter(opts.limits ?? (await readLimits(opts.home)));
  } catch (e) {
    await kernel.close();
    throw e;
  }
  const handlers = kernelOps(kernel, async () => ({
    ...(info(kernel, opts.home, kernelKey) as Record<string, CborValue>),
    plane: { ...planeInfo, ...(plane ? await planeHealth(plane) : {}) },
    dashboard: dashboard?.url ?? null,
    security: {
      ...security,
      acl_rules: kernel.policy.list.length,
      rate_limited: { ...limiter.refused },
    },
  }));
  for (const [op, h] of agentOps(trust)) handlers.set(op, h);
  for (const [op, h] of sessionOps(trust)) handlers.set(op, h);
  // acl.json follows every change, one write at a time, in order, before acl.set answers
  let aclWrites = Promise.resolve();
  for (const [op, h] of aclOps(kernel, trust, (rules) => {
    aclWrites = aclWrites
      .then(() => writeAclFile(opts.home, rules))
      .catch((e: unknown) => log.error({ err: e }, 'cannot write acl.json'));
    return aclWrites;
  }))
    handlers.set(op, h);
  // the native Message Plane transport: jitd relays between its clients
  const broker = new MemoryBroker();
  for (const [op, h] of relayOps(broker)) handlers.set(op, h);
  // every op behind the ACL: a login first, then the policy (the bridge acts as each sender);
  // refusals are counted and reported on jit.kernel.events (at most REPORTS_PER_S a second)
  const security = { denied: 0, reported: 0, unreported: 0 };
  const reportable = perSecond(REPORTS_PER_S);
  guardOps(handlers, {
    kernel,
    trust,
    limiter,
    onDenied: (d) => {
      security.denied++;
      log.debug({ agent: d.agent, op: d.op, reason: d.reason }, 'refused');
      if (plane === undefined || !reportable()) {
        security.unreported++;
        return;
      }
      security.reported++;
      plane
        .publish(Topics.kernelEvents, {
          event: 'denied',
          agent: d.agent,
          op: d.op,
          error: d.error,
          reason: d.reason,
        })
        .catch((e: unknown) => debug('cannot report a refusal: %o', e));
    },
  });
  // metrics and the dashboard's live model hear of every call, over a socket or from the plane
  const metrics = new JitMetrics();
  const live = new LiveModel();
  metrics.instrument(handlers, (op, payload, result, by) => live.kernelOp(op, payload, result, by));
  metrics.watchKernel(kernel);
  metrics.watchRefusals(
    () => security.denied,
    () => ({ ...limiter.refused }),
  );
  // the kernel bridge: plane commands become RPC calls; notifications after durability
  const planeInfo = {
    url: opts.plane === undefined ? 'native' : redactUrl(opts.plane),
    transport: 'native',
  };
  let plane: Plane | undefined;
  let bridge: Bridge;
  let answers: FileAnswers | undefined;
  try {
    const transport = opts.plane === undefined ? broker.connect() : openTransport(opts.plane);
    if (opts.plane !== undefined) planeInfo.transport = transport.name;
    plane = await Plane.open({
      transport,
      sender: KERNEL_AGENT,
      signer: keySigner(KERNEL_AGENT, kernelKey),
      verifier: trust,
      // every command must say until when it is valid: a copy replayed later is refused
      requireExpiry: true,
      // the ACL at the kernel's subscriptions: a sender must be allowed to publish there; on a
      // broker, its rate and payload limits are charged here too (the native relay charged them
      // when it took the message)
      authorize: (sender, topic, bytes) => {
        const a = trust.get(sender);
        if (a === undefined)
          return { refuse: 'denied', detail: `${sender} is not in the trust store` };
        const who = { agent: sender, role: a.role };
        const d = kernel.policy.decide(who, 'publish', topic);
        if (!d.allowed) return { refuse: 'denied', detail: d.reason };
        if (opts.plane === undefined) return undefined;
        try {
          limiter.charge(who, 1, bytes, [topic], commandCount([topic]));
        } catch (e) {
          return { refuse: 'rate-limited', detail: (e as Error).message };
        }
        return undefined;
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    answers = await FileAnswers.open(join(opts.home, 'answers.log'));
    bridge = await startBridge({ plane, handlers, answers });
    metrics.watchPlane(plane, bridge, planeInfo.transport);
  } catch (e) {
    // whatever was opened before the failing step is closed again (a broker connection left
    // open would keep the process alive)
    await plane?.close().catch(() => undefined);
    await answers?.close();
    await kernel.close();
    throw new PlaneUnavailableError(
      `cannot open the Message Plane at ${planeInfo.url}: ${(e as Error).message}`,
      { plane: planeInfo.url },
      { cause: e },
    );
  }
  const server = new RpcServer(handlers);
  let tcp: RpcServer | undefined;
  try {
    const address = await server.listen({ path: socketPath(opts.home) });
    let tcpAddress = '';
    if (opts.tcpPort !== undefined) {
      tcp = new RpcServer(handlers);
      tcpAddress = await tcp.listen({ host: '127.0.0.1', port: opts.tcpPort });
    }
    log.info(
      {
        socket: address,
        tcp: tcpAddress || null,
        plane: planeInfo.url,
        nodes: store.reader.size,
        boot_ms: Math.round(store.boot.ms),
        replayed: store.boot.replayed,
      },
      'serving',
    );
    const stats = plane.stats;
    if (opts.dashboard !== undefined)
      dashboard = await startDashboard({
        home: opts.home,
        ...(opts.dashboard.port !== undefined ? { port: opts.dashboard.port } : {}),
        ...(opts.dashboard.actions ? { actions: true } : {}),
        metrics,
        live,
        trust,
        plane: opts.plane === undefined ? { broker } : { url: opts.plane },
        log: root.child({ component: 'dashboard' }),
        counts: () => ({
          ...metrics.counts,
          published: stats.published,
          delivered: stats.delivered,
          rejected: Object.values(stats.rejected).reduce((a, b) => a + b, 0),
        }),
      });
    // periodic checkpoints, so that a crash costs a bounded replay; never more often than every
    // CHECKPOINT_RATIO checkpoints' worth of log, so their cost stays a fixed share of the writes'
    const threshold = opts.checkpointBytes ?? 64 * 1024 * 1024;
    let lastCheckpoint = store.walBytes;
    // the checkpoint boot started from, if any, sets the first spacing
    let lastSize = await stat(storePaths(store.dir).checkpoint).then(
      (st) => st.size,
      () => 0,
    );
    let checkpointing = false;
    const timer = setInterval(() => {
      const due = Math.max(threshold, CHECKPOINT_RATIO * lastSize);
      if (checkpointing || store.walBytes - lastCheckpoint < due) return;
      checkpointing = true;
      const started = performance.now();
      store
        .checkpoint()
        .then(
          ({ walOffset, bytes }) => {
            lastCheckpoint = walOffset;
            lastSize = bytes;
            log.info(
              { wal_offset: walOffset, bytes, ms: Math.round(performance.now() - started) },
              'checkpoint',
            );
          },
          (e: unknown) => log.warn({ err: e }, 'checkpoint failed'),
        )
        .finally(() => {
          checkpointing = false;
        });
    }, opts.checkpointEveryMs ?? 10_000);
    timer.unref();
    let stopping: Promise<void> | undefined;
    return {
      home: opts.home,
      address: tcpAddress ? `${address} and tcp://${tcpAddress}` : address,
      kernel,
      kernelKey,
      trust,
      broker,
      metrics,
      dashboardUrl: dashboard?.url,
      stop: () => {
        stopping ??= (async () => {
          clearInterval(timer);
          await dashboard?.close();
          await server.close();
          await tcp?.close();
          await bridge.close();
          await plane.close();
          await answers?.close();
          await aclWrites;
          await store
            .checkpoint()
            .catch((e: unknown) => log.warn({ err: e }, 'checkpoint at stop failed'));
          await kernel.close();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    await dashboard?.close();
    await server.close();
    await tcp?.close();
    await bridge.close();
    await plane.close();
    await answers?.close();
    await kernel.close();
    throw e;
  }
}

/** How the kernel's plane stands, for `jit.info`: the transport's own answer (bounded to 1 s) and the bridge's counts. */
async function planeHealth(plane: Plane): Promise<Record<string, CborValue>> {
  const h = await within(plane.transport.health(), 1000, {
    connected: false,
    detail: 'no answer within 1 s',
  });
  const s = plane.stats;
  return {
    connected: h.connected,
    health: h.detail,
    published: s.published,
    delivered: s.delivered,
    rejected: Object.values(s.rejected).reduce((a, b) => a + b, 0),
    dead_lettered: s.deadLettered,
    gaps: s.gaps,
  };
}
