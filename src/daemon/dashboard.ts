import { Dashboard, type JitMetrics, type LiveModel } from '../dashboard/index.js';
import { adminSigner, type TrustStore } from '../identity/index.js';
import { type MemoryBroker, openTransport, Plane, type PlaneSubscription } from '../mp/index.js';
import { RpcClient } from '../rpc/index.js';
import { socketPath } from '../util/home.js';
import type { Logger } from '../util/log.js';

/** The agent id the dashboard listens on the plane as (it never publishes). */
export const DASHBOARD_AGENT = 'jit-dashboard';

export interface DashboardSetup {
  readonly home: string;
  readonly port?: number;
  readonly actions?: boolean;
  readonly metrics: JitMetrics;
  readonly live: LiveModel;
  readonly trust: TrustStore;
  /** The native relay's broker, or a broker URL when jitd runs on one. */
  readonly plane: { readonly broker: MemoryBroker } | { readonly url: string };
  readonly counts: () => Record<string, number>;
  readonly log: Logger;
}

export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the dashboard beside jitd: it reads the kernel over jitd's own socket, logged in as the
 * CLI is (the data directory's admin), and hears the plane as any subscriber does, its signatures
 * checked against the trust store. So it sees and may do nothing a CLI user could not.
 */
export async function startDashboard(o: DashboardSetup): Promise<RunningDashboard> {
  const rpc = await RpcClient.connect({ path: socketPath(o.home) });
  let plane: Plane | undefined;
  let sub: PlaneSubscription | undefined;
  let server: Dashboard | undefined;
  try {
    const signer = await adminSigner(o.home);
    await rpc.login(signer);
    plane = await Plane.open({
      transport: 'broker' in o.plane ? o.plane.broker.connect() : openTransport(o.plane.url),
      sender: DASHBOARD_AGENT,
      verifier: o.trust,
    });
    const live = o.live;
    // the model reads a few topics' content; the rest of a known sender's traffic only counts,
    // unverified (LiveModel.heard): no signature check per flood message
    sub = await plane.subscribe('>', (m) => live.message(m), {
      ordered: false,
      filter: (e) => live.heard(e),
    });
    server = await Dashboard.start({
      calls: rpc,
      live,
      metrics: o.metrics,
      counts: o.counts,
      actor: signer.agent,
      log: o.log,
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.actions ? { actions: true } : {}),
    });
  } catch (e) {
    await sub?.close();
    await plane?.close();
    await rpc.close();
    throw e;
  }
  const running = server;
  o.log.info({ url: running.url, actions: o.actions === true }, 'serving');
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    close: () => {
      closing ??= (async () => {
        await running.close();
        await sub
          ?.close()
          .catch((e: unknown) => o.log.warn({ err: e }, 'closing the subscription failed'));
        await plane?.close();
        await rpc.close();
      })();
      return closing;
    },
  };
}
