import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { debuglog } from 'node:util';
import { toJsonText } from '../codec/index.js';
import { JitError } from '../errors/index.js';
import type { RpcCalls } from '../sdk/index.js';
import type { Logger } from '../util/log.js';
import type { LiveModel, Numbered } from './live.js';
import type { JitMetrics } from './metrics.js';
import { AuditWatch, history, pathDiff } from './reads.js';
import { eventsFrame, helloFrame, resyncFrame, type Tick, tickFrame } from './sse.js';

export type { Tick } from './sse.js';

const debug = debuglog('jit:dashboard');

/** The dashboard's port when none is given (the next free one is taken when it is busy). */
export const DEFAULT_DASHBOARD_PORT = 7420;
/** Events are sent to the page in one frame per this many ms. */
const FLUSH_MS = 100;
/** A page further behind than this many bytes is sent `resync` instead (it refetches). */
const MAX_BACKLOG = 4 * 1024 * 1024;
/** Ticks (one a second) kept for a page that opens: two minutes of chart. */
const TICKS_KEPT = 120;

/** Cumulative counts the live charts turn into rates. */
export type Counts = Readonly<Record<string, number>>;

export interface DashboardOptions {
  /** Where the kernel answers: an RPC client logged in (reads, and the actions if allowed). */
  readonly calls: RpcCalls;
  readonly live: LiveModel;
  readonly metrics: JitMetrics;
  /** Cumulative counts (patches, commits, messages …) read once a second for the charts. */
  readonly counts: () => Counts;
  /** The agent the dashboard's actions are made as (the CLI's login). */
  readonly actor: string;
  /** @default DEFAULT_DASHBOARD_PORT; 0: any free port */
  readonly port?: number;
  /** Offer actions (discarding an SWS) through the same RPC as the CLI. @default false */
  readonly actions?: boolean;
  /** Where a request that failed unexpectedly is reported (jitd's structured log). */
  readonly log?: Pick<Logger, 'warn'>;
}

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
/** The page's own files: HTML and CSS from web/, its compiled modules from dist/web/. */
const STATIC: Record<string, [string, string]> = {
  '/style.css': [here('../../../web/style.css'), 'text/css; charset=utf-8'],
};
const JS = 'text/javascript; charset=utf-8';
/** Front-end libraries, from the project's own node_modules (nothing is fetched at run time). */
const VENDOR: Record<string, string> = {
  '/vendor/preact.js': 'preact',
  '/vendor/preact-hooks.js': 'preact/hooks',
  '/vendor/htm.js': 'htm',
  '/vendor/htm-preact.js': 'htm/preact',
};

/** A request the dashboard cannot answer as asked (bad id, unknown route). */
class HttpProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * The dashboard: a page served on loopback that follows the kernel live (server-sent events),
 * its JSON reads (all through RPC, as the CLI makes them), and `/metrics` for Prometheus.
 */
export class Dashboard {
  private readonly o: DashboardOptions;
  private readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly queue: Numbered[] = [];
  private readonly ticks: Tick[] = [];
  private readonly audit = new AuditWatch();
  private readonly timers: NodeJS.Timeout[] = [];
  private unlisten: (() => void) | undefined;
  private last: Counts = {};
  private port = 0;
  private closed: Promise<void> | undefined;

  private constructor(o: DashboardOptions) {
    this.o = o;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
  }

  /**
   * Starts serving on 127.0.0.1: the port asked, else the next free one of the ten above it, else
   * any free port.
   */
  static async start(o: DashboardOptions): Promise<Dashboard> {
    const d = new Dashboard(o);
    const first = o.port ?? DEFAULT_DASHBOARD_PORT;
    for (let port = first, tries = 0; ; port = tries === 10 ? 0 : port + 1, tries++) {
      try {
        await new Promise<void>((resolve, reject) => {
          d.server.once('error', reject);
          d.server.listen({ host: '127.0.0.1', port }, () => {
            d.server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
      }
    }
    d.port = (d.server.address() as AddressInfo).port;
    d.last = o.counts();
    d.timers.push(
      setInterval(() => d.flush(), FLUSH_MS),
      setInterval(() => d.tick(), 1000),
    );
    for (const t of d.timers) t.unref();
    return d;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Stops serving and ends every page's stream. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.unlisten?.();
      for (const c of this.clients) c.end();
      this.clients.clear();
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closed;
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    if (this.clients.size === 0) return;
    const frame = eventsFrame(batch);
    for (const c of this.clients) {
      if (c.writableLength > MAX_BACKLOG) {
        // this page cannot keep up: it is told to refetch instead of being sent more
        c.write(resyncFrame(this.o.live.sent));
        continue;
      }
      c.write(frame);
    }
  }

  private tick(): void {
    const now = this.o.counts();
    const rates: Record<string, number> = {};
    for (const [k, v] of Object.entries(now)) rates[k] = Math.max(0, v - (this.last[k] ?? 0));
    this.last = now;
    const live = this.o.live.tick();
    const t: Tick = {
      t: Date.now(),
      rates,
      latency: this.o.metrics.takeLatencies(),
      ...live,
      n: this.o.live.sent,
    };
    this.ticks.push(t);
    if (this.ticks.length > TICKS_KEPT) this.ticks.shift();
    if (this.clients.size === 0) return;
    this.flush();
    const frame = tickFrame(t);
    for (const c of this.clients) if (c.writableLength <= MAX_BACKLOG) c.write(frame);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // a page on another origin (DNS rebinding) names another host: refused
    const host = req.headers.host ?? '';
    if (![`127.0.0.1:${this.port}`, `localhost:${this.port}`].includes(host))
      throw new HttpProblem(421, `the dashboard answers only as 127.0.0.1:${this.port}`);
    const url = new URL(req.url ?? '/', `http://${host}`);
    const path = url.pathname;
    if (req.method === 'POST') return this.action(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpProblem(405, `${req.method} is not served (GET, and POST for actions)`);
    const c = this.o.calls;
    if (path === '/') return this.page(res);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const fixed = STATIC[path];
    if (fixed !== undefined) return send(res, 200, fixed[1], await readFile(fixed[0]));
    if (path.startsWith('/app/') && /^\/app\/[a-z0-9-]+\.js$/.test(path))
      return send(res, 200, JS, await readFile(here(`../../web${path.slice(4)}`)));
    const lib = VENDOR[path];
    if (lib !== undefined)
      return send(res, 200, JS, await readFile(fileURLToPath(import.meta.resolve(lib))));
    if (path === '/metrics') {
      const text = await this.o.metrics.scrape();
      return send(res, 200, this.o.metrics.contentType, text);
    }
    if (path === '/api/events') return this.stream(req, res);
    if (path === '/api/info')
      return json(res, {
        ...((await c.call('jit.info', {})) as object),
        actions: !!this.o.actions,
      });
    if (path === '/api/live') return json(res, { ticks: this.ticks, n: this.o.live.sent });
    if (path === '/api/sws') return json(res, await c.call('shadow.list', {}));
    const sws = /^\/api\/sws\/([A-Za-z0-9_-]{1,128})(\/diff)?$/.exec(path);
    if (sws !== null) {
      const id = sws[1]!;
      if (sws[2] === undefined) return json(res, await c.call('shadow.status', { id }));
      const p = url.searchParams.get('path');
      if (p === null) return json(res, await c.call('shadow.diff', { id }));
      return json(res, await pathDiff(c, id, p));
    }
    if (path === '/api/history') {
      const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit') ?? 200) || 200));
      return json(res, { nodes: await history(c, limit) });
    }
    const node = /^\/api\/node\/([0-9a-f]{64})$/.exec(path);
    if (node !== null) return json(res, await c.call('dag.get_node', { id: node[1]! }));
    if (path === '/api/audit') return json(res, await this.audit.check(c));
    throw new HttpProblem(404, `nothing at ${path}`);
  }

  /**
   * The page. Its import map (bare module names to /vendor/) is inline, so the content security
   * policy names it by hash: no other inline script runs.
   */
  private async page(res: ServerResponse): Promise<void> {
    const html = await readFile(here('../../../web/index.html'), 'utf8');
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(map).digest('base64');
    send(res, 200, 'text/html; charset=utf-8', html, `'sha256-${hash}'`);
  }

  /** Actions, only when allowed: the same RPC op the CLI calls, as the CLI's login. */
  private async action(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!this.o.actions)
      throw new HttpProblem(
        403,
        'the dashboard is read only (start jitd with --dashboard-actions)',
      );
    // a form on another site cannot set this header without a preflight the dashboard refuses
    if (req.headers['x-jit-action'] !== '1')
      throw new HttpProblem(403, 'an action needs the header X-Jit-Action: 1');
    const m = /^\/api\/sws\/([A-Za-z0-9_-]{1,128})\/discard$/.exec(path);
    if (m === null) throw new HttpProblem(404, `no action at ${path}`);
    return json(res, await this.o.calls.call('shadow.discard', { id: m[1]!, agent: this.o.actor }));
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // the page learns where numbering stands, then every event after it
    res.write(helloFrame(this.o.live.sent - this.queue.length));
    this.clients.add(res);
    // the live model is heard only while a page is open (its events cost a little each)
    this.unlisten ??= this.o.live.listen((e) => this.queue.push(e));
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) {
        this.unlisten?.();
        this.unlisten = undefined;
      }
    });
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof HttpProblem) json(res, { error: e.message }, e.status);
    else if (e instanceof JitError)
      json(res, { error: e.message, code: e.codeName }, e.codeName === 'E_NOT_FOUND' ? 404 : 400);
    else if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      json(res, { error: 'the page is not built: run npm run build' }, 500);
    else {
      debug('request failed: %o', e);
      this.o.log?.warn({ err: e }, 'a dashboard request failed');
      json(res, { error: (e as Error).message ?? String(e) }, 500);
    }
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  script = '',
): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'self'; script-src 'self' ${script}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'`,
  });
  res.end(body);
}

function json(res: ServerResponse, v: unknown, status = 200): void {
  send(res, status, 'application/json; charset=utf-8', toJsonText(v));
}
