import { randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import type { CborValue } from '../codec/index.js';
import { type Handler, RpcServer } from '../rpc/index.js';
import { Store } from '../store/index.js';
import { JIT_VERSION, socketPath } from '../util/home.js';

const debug = debuglog('jitd');

/** Capabilities this kernel speaks (RFC-0014 names). */
export const CAPABILITIES = ['jit.abi', 'jit.dag', 'jit.rpc', 'jit.wal', 'jit.refs'] as const;

export interface Jitd {
  readonly home: string;
  readonly address: string;
  readonly store: Store;
  /** Stops serving, checkpoints, closes the log and releases the lock. Idempotent. */
  stop(): Promise<void>;
}

export interface JitdOptions {
  readonly home: string;
  /** Also listen on loopback TCP at this port (0: any free port). */
  readonly tcpPort?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (offset: number, size: number) => void;
}

function info(store: Store, home: string): CborValue {
  const reader = store.reader;
  return {
    version: JIT_VERSION,
    home,
    node_count: reader.size,
    dag_size: store.walBytes,
    head: store.getRef('main')?.target ?? null,
    refs: store.refs().length,
    sws_active: 0,
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
  const store = await Store.open(opts.home, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const sessionId = randomUUID();
  const handlers = new Map<string, Handler>([
    [
      'handshake',
      () => ({
        status: 'OK',
        server_version: 0x0100,
        capabilities: [...CAPABILITIES],
        session_id: sessionId,
      }),
    ],
    ['jit.info', () => info(store, opts.home)],
  ]);
  const server = new RpcServer(handlers);
  let tcp: RpcServer | undefined;
  try {
    const address = await server.listen({ path: socketPath(opts.home) });
    let tcpAddress = '';
    if (opts.tcpPort !== undefined) {
      tcp = new RpcServer(handlers);
      tcpAddress = await tcp.listen({ host: '127.0.0.1', port: opts.tcpPort });
    }
    debug('serving %s %s', address, tcpAddress);
    let stopping: Promise<void> | undefined;
    return {
      home: opts.home,
      address: tcpAddress ? `${address} and tcp://${tcpAddress}` : address,
      store,
      stop: () => {
        stopping ??= (async () => {
          await server.close();
          await tcp?.close();
          await store.checkpoint().catch((e: unknown) => debug('checkpoint at stop failed: %o', e));
          await store.close();
        })();
        return stopping;
      },
    };
  } catch (e) {
    await server.close();
    await tcp?.close();
    await store.close();
    throw e;
  }
}
