import { unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { type CborValue, FrameReader } from '../codec/index.js';
import { InvalidOpError, toWireError } from './errors.js';
import { decodeRequest, encodeResponseFrame } from './protocol.js';

export interface HandlerContext {
  /** Aborted when the connection closes or the server stops. */
  readonly signal: AbortSignal;
}
export type Handler = (payload: CborValue, ctx: HandlerContext) => Promise<CborValue> | CborValue;

/** Malformed requests (in valid frames) a connection may send before it is closed. */
export const MAX_BAD_REQUESTS = 16;

/**
 * Serves RPC ops over a Unix socket or loopback TCP. Each frame is one request; answers carry the
 * request's rid and may come back in any order. A frame that does not verify gets an error answer
 * (rid 0) and the connection is closed, since a framed stream cannot resynchronise; a peer that
 * keeps sending malformed requests is disconnected. Handlers run concurrently; state changes are
 * the handlers' business (the kernel serialises them).
 */
export class RpcServer {
  private readonly handlers: ReadonlyMap<string, Handler>;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly stop = new AbortController();
  private socketPath: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(handlers: ReadonlyMap<string, Handler>) {
    this.handlers = handlers;
    this.server = createServer((s) => this.accept(s));
  }

  /** Listens on a Unix socket path or a loopback TCP port (0: any); resolves with the address. */
  async listen(where: { path: string } | { host: string; port: number }): Promise<string> {
    if ('path' in where) {
      await unlink(where.path).catch(() => undefined);
      this.socketPath = where.path;
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      if ('path' in where) this.server.listen(where.path, () => resolve());
      else this.server.listen(where.port, where.host, () => resolve());
    });
    const a = this.server.address();
    return typeof a === 'string' ? a : `${a?.address}:${a?.port}`;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const reader = new FrameReader();
    const conn = new AbortController();
    let bad = 0;
    const send = (bytes: Uint8Array): void => {
      if (!socket.destroyed) socket.write(bytes);
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: ReturnType<FrameReader['push']>;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        send(encodeResponseFrame({ rid: 0, status: 'ERR', error: toWireError(e) }));
        socket.end();
        return;
      }
      for (const f of frames) {
        let rid = 0;
        try {
          const req = decodeRequest(f.payload);
          rid = req.rid;
          const h = this.handlers.get(req.op);
          if (h === undefined) throw new InvalidOpError(`unknown op "${req.op}"`, { op: req.op });
          Promise.resolve()
            .then(() => h(req.payload, { signal: conn.signal }))
            .then(
              (result) => send(encodeResponseFrame({ rid, status: 'OK', result })),
              (e: unknown) =>
                send(encodeResponseFrame({ rid, status: 'ERR', error: toWireError(e) })),
            );
        } catch (e) {
          const d = (e as { details?: { rid?: unknown } }).details;
          if (typeof d?.rid === 'number' && d.rid >= 0) rid = d.rid;
          send(encodeResponseFrame({ rid, status: 'ERR', error: toWireError(e) }));
          if (++bad >= MAX_BAD_REQUESTS) {
            socket.end();
            return;
          }
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      conn.abort();
      this.sockets.delete(socket);
    });
  }

  /** Stops accepting, closes connections and removes the socket file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        for (const s of this.sockets) s.end();
        setTimeout(() => {
          for (const s of this.sockets) s.destroy();
        }, 1000).unref();
      });
      if (this.socketPath !== undefined) await unlink(this.socketPath).catch(() => undefined);
    })();
    return this.closing;
  }
}
