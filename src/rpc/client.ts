import { connect, type Socket } from 'node:net';
import { type CborValue, FrameReader } from '../codec/index.js';
import type { Signer } from '../identity/index.js';
import { Numbered } from '../util/numbered.js';
import { adminAuth, adminSigningBytes } from './admin.js';
import { batchedWriter } from './batched-write.js';
import { ConnectionError, RemoteError } from './errors.js';
import { decodeResponse, encodeRequestFrame } from './protocol.js';

interface Waiting {
  readonly resolve: (v: CborValue) => void;
  readonly reject: (e: Error) => void;
}

/** A typed RPC client: many calls in flight on one connection, matched by rid. */
export class RpcClient {
  private readonly socket: Socket;
  private readonly write: (bytes: Uint8Array) => void;
  /** Calls awaiting their answer, by rid (the rids are the numbers this hands out). */
  private readonly waiting = new Numbered<Waiting>();
  private readonly streams = new Map<number, (v: CborValue) => void>();
  private closed: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.write = batchedWriter(socket);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.push(chunk)) {
          const r = decodeResponse(f.payload);
          if (r.status === 'PUSH') {
            this.streams.get(r.rid)?.(r.result);
            continue;
          }
          const w = this.waiting.take(r.rid);
          if (w === undefined) continue;
          if (r.status === 'OK') w.resolve(r.result);
          else w.reject(new RemoteError(r.error.code, r.error.message, r.error.details));
        }
      } catch (e) {
        this.fail(new ConnectionError('the server sent a malformed answer', {}, { cause: e }));
        socket.destroy();
      }
    });
    socket.on('error', (e) =>
      this.fail(new ConnectionError(`connection failed: ${e.message}`, {}, { cause: e })),
    );
    socket.on('close', () => this.fail(new ConnectionError('the connection closed')));
  }

  private readonly closeListeners = new Set<(e: Error) => void>();

  /** Calls `f` once when the connection fails or closes. */
  onClose(f: (e: Error) => void): void {
    if (this.closed !== undefined) f(this.closed);
    else this.closeListeners.add(f);
  }

  private fail(e: Error): void {
    const first = this.closed === undefined;
    this.closed ??= e;
    if (first) for (const f of this.closeListeners) f(e);
    this.closeListeners.clear();
    for (const end of this.streamEnds.values()) end(e);
    this.streamEnds.clear();
    this.streams.clear();
    for (const w of this.waiting.takeAll()) w.reject(e);
  }

  /**
   * Connects to a Unix socket path or a TCP host:port and, given `login`, logs in as that signer's
   * agent (jitd serves nothing but `handshake` and `session.*` before a login).
   */
  static async connect(
    where: { path: string } | { host: string; port: number },
    opts: { signal?: AbortSignal; login?: Signer } = {},
  ): Promise<RpcClient> {
    const c = await RpcClient.open(where, opts);
    if (opts.login !== undefined)
      await c.login(opts.login, opts.signal ? { signal: opts.signal } : {}).catch(async (e) => {
        await c.close();
        throw e;
      });
    return c;
  }

  private static open(
    where: { path: string } | { host: string; port: number },
    opts: { signal?: AbortSignal },
  ): Promise<RpcClient> {
    opts.signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const socket = 'path' in where ? connect(where.path) : connect(where.port, where.host);
      const onError = (e: NodeJS.ErrnoException): void => {
        const where_ = 'path' in where ? where.path : `${where.host}:${where.port}`;
        const hint =
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? ' (is jitd running? start it with `npm start`)'
            : '';
        reject(
          new ConnectionError(
            `cannot connect to ${where_}: ${e.code ?? e.message}${hint}`,
            {},
            { cause: e },
          ),
        );
      };
      socket.once('error', onError);
      opts.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RpcClient(socket));
      });
    });
  }

  private readonly streamEnds = new Map<number, (e: Error) => void>();

  /**
   * Calls a streaming op: `onPush` gets every PUSH the server sends for this request after its
   * answer, and `onEnd` is called once if the connection goes away. Resolves with the answer and
   * the rid that names the stream (for `endStream`).
   */
  async stream(
    op: string,
    payload: CborValue,
    onPush: (v: CborValue) => void,
    onEnd: (e: Error) => void,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ rid: number; result: CborValue }> {
    let rid = 0;
    try {
      // the stream is named before the request leaves: its pushes may follow the answer at once
      const result = await this.send(op, payload, opts, (r) => {
        rid = r;
        this.streams.set(r, onPush);
        this.streamEnds.set(r, onEnd);
      });
      return { rid, result };
    } catch (e) {
      if (rid !== 0) this.endStream(rid);
      throw e;
    }
  }

  /** Stops delivering pushes for `rid`. */
  endStream(rid: number): void {
    this.streams.delete(rid);
    this.streamEnds.delete(rid);
  }

  /** True once the connection has failed or closed. */
  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  call(
    op: string,
    payload: CborValue = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<CborValue> {
    return this.send(op, payload, opts, undefined);
  }

  /** Sends a request under a fresh rid (told to `named` before it leaves); resolves with its answer. */
  private send(
    op: string,
    payload: CborValue,
    opts: { signal?: AbortSignal },
    named: ((rid: number) => void) | undefined,
  ): Promise<CborValue> {
    opts.signal?.throwIfAborted();
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const rid = this.waiting.add({ resolve, reject });
      named?.(rid);
      opts.signal?.addEventListener(
        'abort',
        () => {
          if (this.waiting.take(rid) !== undefined) reject(opts.signal!.reason as Error);
        },
        { once: true },
      );
      this.write(encodeRequestFrame({ op, ts: 0, rid, payload }));
    });
  }

  private challenge: Promise<string> | undefined;

  /** This connection's challenge (from `handshake`, fetched once). */
  private challengeOf(opts: { signal?: AbortSignal }): Promise<string> {
    this.challenge ??= this.call('handshake', {}, opts).then(
      (r) => (r as { challenge: string }).challenge,
    );
    return this.challenge;
  }

  /**
   * Binds this connection to `signer`'s agent (`session.login`): signs this connection's challenge,
   * so the login cannot be replayed elsewhere. Resolves with the agent's role.
   */
  async login(
    signer: Signer,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ agent: string; role: string }> {
    const challenge = await this.challengeOf(opts);
    const args = { agent: signer.agent };
    const sig = signer.sign(adminSigningBytes('session.login', challenge, args));
    return (await this.call('session.login', { ...args, sig }, opts)) as {
      agent: string;
      role: string;
    };
  }

  /**
   * Calls an op that needs an admin's signature: fetches this connection's challenge (once), signs
   * `{op, challenge, args}` with `signer` and sends it as `payload.auth`.
   */
  async signedCall(
    op: string,
    args: Record<string, CborValue>,
    signer: Signer,
    opts: { signal?: AbortSignal } = {},
  ): Promise<CborValue> {
    const challenge = await this.challengeOf(opts);
    return this.call(op, { ...args, auth: adminAuth(signer, op, challenge, args) }, opts);
  }

  /** Sends raw bytes: for tests of malformed input. */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}
