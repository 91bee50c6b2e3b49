import type { CborValue } from '../codec/index.js';
import { describeValue } from '../errors/index.js';
import { BadRequestError, type Handler, type HandlerContext } from '../rpc/index.js';
import { Numbered } from '../util/numbered.js';
import type { MemoryBroker } from './memory.js';
import { checkPattern, checkTopic } from './topic.js';
import type { Delivery, Transport, TransportSubscription } from './transport.js';

type M = Record<string, CborValue>;

function map(p: CborValue): M {
  if (p === null || typeof p !== 'object' || Array.isArray(p) || p instanceof Uint8Array)
    throw new BadRequestError('the payload must be a map');
  return p as M;
}

function uint(v: CborValue | undefined, what: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new BadRequestError(
      `payload.${what} must be a non-negative integer, not ${describeValue(v)}`,
    );
  return v;
}

/** One relayed subscription: deliveries numbered for acks, pushed in batches per tick. */
class RelaySub {
  private readonly pending = new Numbered<Delivery>();
  private batch: CborValue[] = [];
  private readonly sub: TransportSubscription;
  private readonly push: (v: CborValue) => void;

  constructor(sub: TransportSubscription, push: (v: CborValue) => void) {
    this.sub = sub;
    this.push = push;
    void this.pump();
  }

  private async pump(): Promise<void> {
    for await (const d of this.sub) {
      const n = this.pending.add(d);
      if (this.batch.length === 0) process.nextTick(() => this.flush());
      this.batch.push([n, d.topic, d.data, d.redelivered, d.deliveries ?? null]);
    }
  }

  private flush(): void {
    const msgs = this.batch;
    this.batch = [];
    if (msgs.length > 0) this.push({ msgs });
  }

  ack(ns: readonly CborValue[]): void {
    for (const n of ns) if (typeof n === 'number') this.pending.take(n)?.ack();
  }

  close(): Promise<void> {
    return this.sub.close();
  }
}

/**
 * One `T` per client connection, made on first use and disposed of when the connection closes.
 */
function perConnection<T>(make: () => T, dispose: (x: T) => void): (ctx: HandlerContext) => T {
  const byConn = new Map<string, T>();
  return (ctx) => {
    let x = byConn.get(ctx.challenge);
    if (x === undefined) {
      const mine = make();
      x = mine;
      byConn.set(ctx.challenge, mine);
      ctx.signal.addEventListener(
        'abort',
        () => {
          byConn.delete(ctx.challenge);
          dispose(mine);
        },
        { once: true },
      );
    }
    return x;
  };
}

/**
 * The `native` transport's server side: `jitd` relays publish/subscribe between its connected
 * clients through one in-memory broker, so agents in other processes need nothing installed.
 * Ops: `mp.publish {msgs: [[topic, data]…]}` (answered once the broker took them all, so a slow
 * consumer slows the publisher), `mp.subscribe {pattern, group?, max_in_flight?}` (deliveries
 * then arrive as PUSH `{msgs: [[n, topic, data, redelivered, deliveries]…]}` on its rid), `mp.ack {sub, ns}`
 * and `mp.unsubscribe {sub}`. A connection's subscriptions end with it; what they did not
 * acknowledge goes back to their group.
 */
export function relayOps(broker: MemoryBroker): [string, Handler][] {
  const subsOf = perConnection(
    () => new Map<number, RelaySub>(),
    (mine) => {
      for (const s of mine.values()) void s.close();
    },
  );
  // subscriptions share one broker connection; publishes get one per client connection, so that
  // one client waiting for room in a group (a flooder at its backlog limit) does not hold up the
  // others' publishes behind it (a broker connection keeps its publishes in call order)
  const conn = broker.connect();
  const publisherOf = perConnection(
    (): Transport => broker.connect(),
    (mine) => void mine.close(),
  );
  const tails = new Map<string, Promise<void>>();
  return [
    [
      'mp.publish',
      async (p, ctx) => {
        const msgs = map(p).msgs;
        if (!Array.isArray(msgs))
          throw new BadRequestError('payload.msgs must be an array of [topic, data]');
        // check them all first: a bad one refuses the batch and publishes nothing
        for (const m of msgs)
          if (!Array.isArray(m) || m.length !== 2 || !(m[1] instanceof Uint8Array))
            throw new BadRequestError(
              `each message is [topic, data bytes], not ${describeValue(m)}`,
            );
          else checkTopic(m[0]);
        // one connection's batches go to the broker in the order they came
        const prev = tails.get(ctx.challenge);
        // the broker serves publishers in turn by the logged-in agent (FairBacklog)
        const from = ctx.session.agent ?? ctx.challenge;
        const pub = publisherOf(ctx);
        const run = async (): Promise<void> => {
          for (const m of msgs as [string, Uint8Array][])
            await pub.publish(m[0], m[1], { signal: ctx.signal, from });
        };
        const done = prev === undefined ? run() : prev.then(run);
        const tail = done.catch(() => undefined);
        tails.set(ctx.challenge, tail);
        await done.finally(() => {
          if (tails.get(ctx.challenge) === tail) tails.delete(ctx.challenge);
        });
        return { accepted: msgs.length };
      },
    ],
    [
      'mp.subscribe',
      async (p, ctx) => {
        const m = map(p);
        if (subsOf(ctx).has(ctx.rid))
          throw new BadRequestError(
            `rid ${ctx.rid} already names a subscription on this connection`,
          );
        const pattern = checkPattern(m.pattern);
        const group = m.group;
        if (
          group !== undefined &&
          (typeof group !== 'string' || group.length === 0 || group.length > 128)
        )
          throw new BadRequestError(
            `payload.group must be a name of 1-128 characters, not ${describeValue(group)}`,
          );
        const maxInFlight = uint(m.max_in_flight, 'max_in_flight', 256);
        if (maxInFlight === 0)
          throw new BadRequestError('payload.max_in_flight must be at least 1');
        const sub = await conn.subscribe(pattern, {
          ...(group !== undefined ? { group: group as string } : {}),
          maxInFlight,
          signal: ctx.signal,
        });
        subsOf(ctx).set(ctx.rid, new RelaySub(sub, ctx.push));
        return { sub: ctx.rid };
      },
    ],
    [
      'mp.ack',
      (p, ctx) => {
        const m = map(p);
        const ns = m.ns;
        if (!Array.isArray(ns) || !ns.every((n) => typeof n === 'number'))
          throw new BadRequestError('payload.ns must be an array of delivery numbers');
        subsOf(ctx).get(uint(m.sub, 'sub'))?.ack(ns);
        return { ok: true };
      },
    ],
    [
      'mp.unsubscribe',
      async (p, ctx) => {
        const id = uint(map(p).sub, 'sub');
        const subs = subsOf(ctx);
        const s = subs.get(id);
        subs.delete(id);
        await s?.close();
        return { closed: s !== undefined };
      },
    ],
  ];
}
