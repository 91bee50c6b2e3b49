import { describeValue } from '../errors/index.js';
import { patternMatcher } from '../util/pattern.js';
import { LimitsInputError, RateLimitedError } from './errors.js';
import type { Subject } from './policy.js';
import type { Role } from './rules.js';

/** A token bucket's shape: `rate` tokens a second, holding at most `burst`. */
export interface Rate {
  readonly rate: number;
  readonly burst: number;
}

/** What one role (or one agent) may spend: messages and calls a second, and the largest payload. */
export interface RoleLimits {
  /** Messages published plus RPC calls, per agent. Absent: unlimited. */
  readonly messages?: Rate;
  /**
   * Commands the kernel must run (plane commands on `jit.sws.<id>.patch|commit|discard|analyze`
   * and state-changing RPC ops), per agent: kept well below what the kernel can do, so one agent
   * cannot fill its queue and hold everyone else up. Absent: unlimited.
   */
  readonly commands?: Rate;
  /** The largest message or request payload, in bytes. Absent: only the frame limit. */
  readonly maxPayload?: number;
}

/**
 * The limits `jitd` enforces (`<home>/limits.json`, read at boot): per role, per agent (overrides
 * its role), and per topic pattern (all senders together).
 */
export interface LimitsConfig {
  readonly roles?: Partial<Record<Role, RoleLimits>>;
  readonly agents?: Readonly<Record<string, RoleLimits>>;
  readonly topics?: Readonly<Record<string, Rate>>;
}

/**
 * With nothing configured: kernel and admins are not limited; an agent may send 5,000 messages a
 * second (bursts of 10,000), 500 of them commands for the kernel (bursts of 1,000); a restricted
 * agent 200 messages and 50 commands a second (bursts of twice that), each at most 256 KiB.
 */
export const DEFAULT_LIMITS: LimitsConfig = {
  roles: {
    agent: { messages: { rate: 5000, burst: 10_000 }, commands: { rate: 500, burst: 1000 } },
    restricted: {
      messages: { rate: 200, burst: 400 },
      commands: { rate: 50, burst: 100 },
      maxPayload: 256 * 1024,
    },
  },
};

/** A token bucket on an injected clock (ms), so tests and replays decide the same. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly shape: Rate;

  constructor(shape: Rate, now: number) {
    this.shape = shape;
    this.tokens = shape.burst;
    this.last = now;
  }

  /** Whether `n` tokens are there now (refilling first). */
  has(n: number, now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(
        this.shape.burst,
        this.tokens + ((now - this.last) * this.shape.rate) / 1000,
      );
      this.last = now;
    }
    return this.tokens >= n;
  }

  /** How long until `n` tokens are there (0: now; Infinity: never, n is above the burst). */
  waitMs(n: number, now: number): number {
    if (this.has(n, now)) return 0;
    if (n > this.shape.burst) return Number.POSITIVE_INFINITY;
    return ((n - this.tokens) * 1000) / this.shape.rate;
  }

  /** Takes `n` tokens if there are that many; false (taking none) if not. */
  take(n: number, now: number): boolean {
    if (!this.has(n, now)) return false;
    this.tokens -= n;
    return true;
  }
}

function checkRate(v: unknown, where: string): Rate {
  const r = v as Rate;
  if (
    r === null ||
    typeof r !== 'object' ||
    !(typeof r.rate === 'number' && r.rate > 0 && Number.isFinite(r.rate)) ||
    !(typeof r.burst === 'number' && r.burst >= 1 && Number.isFinite(r.burst))
  )
    throw new LimitsInputError(
      `${where} must be {rate: tokens a second > 0, burst: ≥ 1}, not ${describeValue(v as never)}`,
    );
  return { rate: r.rate, burst: r.burst };
}

function checkRoleLimits(v: unknown, where: string): RoleLimits {
  if (v === null || typeof v !== 'object')
    throw new LimitsInputError(`${where} must be {messages?, maxPayload?}`);
  const l = v as Record<string, unknown>;
  for (const k of Object.keys(l))
    if (k !== 'messages' && k !== 'commands' && k !== 'maxPayload')
      throw new LimitsInputError(`${where} has no field ${k}`);
  const mp = l.maxPayload;
  if (mp !== undefined && !(typeof mp === 'number' && Number.isInteger(mp) && mp > 0))
    throw new LimitsInputError(`${where}.maxPayload must be a positive number of bytes`);
  return {
    ...(l.messages !== undefined ? { messages: checkRate(l.messages, `${where}.messages`) } : {}),
    ...(l.commands !== undefined ? { commands: checkRate(l.commands, `${where}.commands`) } : {}),
    ...(mp !== undefined ? { maxPayload: mp as number } : {}),
  };
}

/** Checks a limits file's content (`{roles?, agents?, topics?}`), throwing what is wrong. */
export function checkLimits(v: unknown): LimitsConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new LimitsInputError('limits are {roles?, agents?, topics?}');
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c))
    if (k !== 'roles' && k !== 'agents' && k !== 'topics')
      throw new LimitsInputError(`limits have no field ${k}`);
  const each = <T>(
    o: unknown,
    where: string,
    f: (x: unknown, w: string) => T,
  ): Record<string, T> => {
    if (o === undefined) return {};
    if (o === null || typeof o !== 'object') throw new LimitsInputError(`${where} must be a map`);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, f(x, `${where}.${k}`)]));
  };
  return {
    roles: each(c.roles, 'roles', checkRoleLimits),
    agents: each(c.agents, 'agents', checkRoleLimits),
    topics: each(c.topics, 'topics', checkRate),
  };
}

/** Buckets kept before the idle ones are dropped (a full bucket is the same as a new one). */
const MAX_BUCKETS = 100_000;

/** When a refused caller may try again, in whole ms (a batch above the burst: try smaller, in 1 s). */
function retryAfter(b: TokenBucket, n: number, now: number): number {
  return Math.min(1000, Math.max(1, Math.ceil(b.waitMs(n, now))));
}

/** Plane topics whose messages the kernel runs as commands: groups 1 and 2 are the SWS and the kind. */
export const COMMAND_TOPIC = /^jit\.sws\.([^.]+)\.(patch|commit|discard|analyze)$/;

/** How many of `topics` are kernel commands. */
export function commandCount(topics: readonly string[]): number {
  let n = 0;
  for (const t of topics) if (COMMAND_TOPIC.test(t)) n++;
  return n;
}

/**
 * The rate limits (issue 6): per agent, a bucket of messages and calls and a bucket of kernel
 * commands (each shaped by the agent's entry, else its role's); per configured topic pattern, one
 * bucket for all senders together; and a payload cap per role. `charge` takes tokens or throws
 * RateLimitedError, counting refusals.
 */
export class Limiter {
  private readonly config: LimitsConfig;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly topics: {
    match: (t: string) => boolean;
    pattern: string;
    bucket: TokenBucket;
  }[];
  private readonly now: () => number;
  /** Refusals so far, by kind. */
  readonly refused = { agent: 0, commands: 0, topic: 0, payload: 0 };

  constructor(config: LimitsConfig = DEFAULT_LIMITS, now: () => number = () => performance.now()) {
    this.config = config;
    this.now = now;
    const t = now();
    this.topics = Object.entries(config.topics ?? {}).map(([pattern, rate]) => ({
      pattern,
      match: patternMatcher(pattern),
      bucket: new TokenBucket(rate, t),
    }));
  }

  private limitsOf(who: Subject): RoleLimits | undefined {
    return this.config.agents?.[who.agent] ?? this.config.roles?.[who.role];
  }

  /** The payload cap for `who`, or undefined. */
  maxPayload(who: Subject): number | undefined {
    return this.limitsOf(who)?.maxPayload;
  }

  private bucket(key: string, shape: Rate, now: number): TokenBucket {
    let b = this.buckets.get(key);
    if (b === undefined || b.shape !== shape) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      b = new TokenBucket(shape, now);
      this.buckets.set(key, b);
    }
    return b;
  }

  /**
   * Charges `who` for `n` messages or calls, `commands` of them for the kernel to run (on
   * `topics`, when they are publishes), of `bytes` bytes at most each. Throws RateLimitedError,
   * charging nothing, when a bucket is short or a payload is over the cap.
   */
  charge(who: Subject, n: number, bytes = 0, topics: readonly string[] = [], commands = 0): void {
    const l = this.limitsOf(who);
    if (l === undefined && this.topics.length === 0) return;
    if (l?.maxPayload !== undefined && bytes > l.maxPayload) {
      this.refused.payload++;
      throw new RateLimitedError(
        `${who.agent}: a payload of ${bytes} bytes is over the ${l.maxPayload} of its role`,
        { agent: who.agent },
      );
    }
    const now = this.now();
    // every bucket is checked before any is charged: a refusal charges nothing
    const charges: [TokenBucket, number][] = [];
    if (l?.messages !== undefined) {
      const b = this.bucket(who.agent, l.messages, now);
      if (!b.has(n, now)) {
        this.refused.agent++;
        throw new RateLimitedError(
          `${who.agent} is over its rate (${l.messages.rate}/s, bursts of ${l.messages.burst}): slow down and retry`,
          { agent: who.agent, retry_after_ms: retryAfter(b, n, now) },
        );
      }
      charges.push([b, n]);
    }
    if (commands > 0 && l?.commands !== undefined) {
      const b = this.bucket(`${who.agent}\u0000commands`, l.commands, now);
      if (!b.has(commands, now)) {
        this.refused.commands++;
        throw new RateLimitedError(
          `${who.agent} is over its rate of kernel commands (${l.commands.rate}/s, bursts of ${l.commands.burst}): slow down and retry`,
          { agent: who.agent, retry_after_ms: retryAfter(b, commands, now) },
        );
      }
      charges.push([b, commands]);
    }
    for (const t of this.topics) {
      let k = 0;
      for (const topic of topics) if (t.match(topic)) k++;
      if (k === 0) continue;
      if (!t.bucket.has(k, now)) {
        this.refused.topic++;
        throw new RateLimitedError(
          `topic pattern ${t.pattern} is over its rate (${t.bucket.shape.rate}/s): slow down and retry`,
          { agent: who.agent, topic: t.pattern },
        );
      }
      charges.push([t.bucket, k]);
    }
    for (const [b, k] of charges) b.take(k, now);
  }
}
