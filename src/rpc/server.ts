import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { type CborValue, FrameError, FrameReader } from '../codec/index.js';
import { batchedWriter } from './batched-write.js';
import { InvalidOpError, toWireError } from './errors.js';
import { decodeRequest, encodeResponseFrame } from './protocol.js';

/** Who a connection is: set by `session.login`, absent until then. */
export interface Session {
  agent?: string;
}

export interface HandlerContext {
  /**
   * The connection's identity (the same object for every request on it). The kernel bridge sets
   * it to a message's verified sender, so commands from the plane are checked like calls.
   */
  readonly session: Session;
  /** Aborted when the connection closes or the server stops. */
  readonly signal: AbortSignal;
  /**
   * 16 random bytes (hex) fixed for the connection: `handshake` hands it out and signed requests
   * sign it, so a signed request cannot be replayed on another connection.
   */
  readonly challenge: string;
  /**
   * Sends more for this request after its answer (status PUSH, same rid): how a subscription
   * streams. Ignored once the connection is gone.
   */
  readonly push: (result: CborValue) => void;
  /** The request's rid (a streaming op names its stream by it). */
  readonly rid: number;
  /** The size of the request's frame payload, in bytes (for payload caps). */
  readonly bytes: number;
  /**
   * Set by the kernel bridge: a command from the plane, whose rate and size were charged where it
   * entered (the relay, or the kernel's subscription on a broker), so the guard does not charge it
   * again.
   */
  readonly charged?: boolean;
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
    // half-open: a client may send its requests and end its side; it still gets every answer
    this.server = createServer({ allowHalfOpen: true }, (s) => this.accept(s));
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
    const challenge = randomBytes(16).toString('hex');
    const session: Session = {};
    let bad = 0;
    let inFlight = 0;
    let peerEnded = false;
    // after a bad frame (or too many bad requests) nothing more is read; answers already owed
    // still go out, then the connection closes
    let closing = false;
    const write = batchedWriter(socket);
    const send = (bytes: Uint8Array): void => {
      if (!socket.destroyed && socket.writable) write(bytes);
    };
    let heldUntil = 0;
    const holdOff = (ms: number): void => {
      const until = performance.now() + ms;
      if (until <= heldUntil) return;
      heldUntil = until;
      socket.pause();
      setTimeout(() => {
        if (performance.now() >= heldUntil - 1 && !socket.destroyed) socket.resume();
      }, ms).unref();
    };
    const maybeEnd = (): void => {
      if ((peerEnded || closing) && inFlight === 0 && !socket.destroyed) socket.end();
    };
    socket.on('end', () => {
      peerEnded = true;
      if (!closing && reader.buffered > 0) {
        // the stream ended inside a frame (or a damaged length promised more): say so
        const e = new FrameError(
          'truncated',
          0,
          `the stream ended inside a frame (${reader.buffered} bytes unread)`,
        );
        send(encodeResponseFrame({ rid: 0, status: 'ERR', error: toWireError(e) }));
      }
      maybeEnd();
    });
    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      let frames: ReturnType<FrameReader['push']>;
      let frameError: unknown;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        frames = reader.completed();
        frameError = e;
      }
      for (const f of frames) {
        let rid = 0;
        try {
          const req = decodeRequest(f.payload);
          rid = req.rid;
          const h = this.handlers.get(req.op);
          if (h === undefined) throw new InvalidOpError(`unknown op "${req.op}"`, { op: req.op });
          inFlight++;
          Promise.resolve()
            .then(() =>
              h(req.payload, {
                signal: conn.signal,
                session,
                challenge,
                bytes: f.payload.length,
                rid,
                push: (result) => send(encodeResponseFrame({ rid, status: 'PUSH', result })),
              }),
            )
            .then(
              (result) => send(encodeResponseFrame({ rid, status: 'OK', result })),
              (e: unknown) => {
                send(encodeResponseFrame({ rid, status: 'ERR', error: toWireError(e) }));
                // a caller over its rate is not read from until it may send again: its flood
                // waits in its own socket buffers instead of costing this process the decoding
                const wait = (e as { details?: { retry_after_ms?: unknown } }).details
                  ?.retry_after_ms;
                if (typeof wait === 'number' && wait > 0) holdOff(wait);
              },
            )
            .finally(() => {
              inFlight--;
              maybeEnd();
            });
        } catch (e) {
          const d = (e as { details?: { rid?: unknown } }).details;
          if (typeof d?.rid === 'number' && d.rid >= 0) rid = d.rid;
          send(encodeResponseFrame({ rid, status: 'ERR', error: toWireError(e) }));
          if (++bad >= MAX_BAD_REQUESTS) {
            closing = true;
            maybeEnd();
            return;
          }
        }
      }
      if (frameError !== undefined) {
        send(encodeResponseFrame({ rid: 0, status: 'ERR', error: toWireError(frameError) }));
        closing = true;
        maybeEnd();
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
