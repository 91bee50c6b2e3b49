/**
 * The intake (JITNA Layer 3): an intent and its context become one hash over both, and work is
 * done at most once per hash. The reference cached by intent similarity alone and so answered one
 * context with another's result; here the key always covers the context. A plain-text intent keeps
 * the reference's own `compute_hash` (`intakeHash`, byte for byte); a 6-field record is hashed as
 * SHA-256 over `"jitna.intake.v1\0"` and the canonical CBOR of `{intent, context}` (case kept: paths
 * and identifiers are case-sensitive).
 */
import { createHash } from 'node:crypto';
import { type CborValue, encode } from '../codec/index.js';
import { intakeHash, type JsonMap } from '../jitna/index.js';
import { IntentInvalidError } from './errors.js';
import { checkIntent, type IntentRecord } from './intent.js';

const DOMAIN = 'jitna.intake.v1\u0000';

/** The intake hash of an intent (text or record) in its context. */
export function intakeKey(intent: string | IntentRecord, context: JsonMap): string {
  if (typeof intent === 'string') return intakeHash(intent, context);
  return createHash('sha256')
    .update(DOMAIN)
    .update(encode({ context, intent } as unknown as CborValue))
    .digest('hex');
}

/** The reference's `LoopMetrics`, kept up to date (the reference defined it and never used it). */
export interface IntakeMetrics {
  /** Intakes answered, from the cache or by work. */
  readonly total_processed: number;
  readonly cache_hits: number;
  readonly cache_misses: number;
  /** Mean time to answer, over every answered intake (ms). */
  readonly avg_latency_ms: number;
  /** Intakes whose work threw (or that were refused as malformed). */
  readonly error_count: number;
  /** cache_hits / total_processed, 0 before the first. */
  readonly cache_hit_rate: number;
  /** When the metrics last changed (ms, from the intake's clock), 0 before the first. */
  readonly last_updated: number;
}

export interface IntakeAnswer<R> {
  readonly hash: string;
  readonly result: R;
  /** Taken from the cache (or from the same work already running) rather than done. */
  readonly cached: boolean;
}

export interface IntakeOptions {
  /** Most answers kept; the least recently used goes first (default 1,024). */
  readonly capacity?: number;
  /** The clock for latency (ms), default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Runs the work for each distinct (intent, context) once: a second intake with the same hash takes
 * the first one's answer, even while that is still being worked out. Failed work is not cached.
 */
export class Intake<R> {
  private readonly cache = new Map<string, R>();
  private readonly running = new Map<string, Promise<R>>();
  private readonly capacity: number;
  private readonly now: () => number;
  private processed = 0;
  private hits = 0;
  private misses = 0;
  private errors = 0;
  private latencyTotal = 0;
  private updated = 0;

  constructor(o: IntakeOptions = {}) {
    this.capacity = Math.max(1, o.capacity ?? 1024);
    this.now = o.now ?? (() => performance.now());
  }

  async process(
    intent: string | IntentRecord,
    context: JsonMap,
    work: (hash: string, signal?: AbortSignal) => R | Promise<R>,
    o: { readonly signal?: AbortSignal } = {},
  ): Promise<IntakeAnswer<R>> {
    const t0 = this.now();
    let hash: string;
    try {
      o.signal?.throwIfAborted();
      if (typeof intent === 'string') {
        if (intent.trim() === '')
          throw new IntentInvalidError('an intake needs an intent (empty text)', { problems: 'I' });
      } else {
        const p = checkIntent(intent);
        if (p.length > 0)
          throw new IntentInvalidError(
            `not a valid intent: ${p.map((x) => x.message).join('; ')}`,
            {
              problems: p.map((x) => x.field).join(','),
            },
          );
      }
      hash = intakeKey(intent, context);
    } catch (e) {
      throw this.failed(e);
    }
    if (this.cache.has(hash)) {
      const result = this.cache.get(hash) as R;
      this.cache.delete(hash);
      this.cache.set(hash, result);
      this.hits++;
      this.done(t0);
      return { hash, result, cached: true };
    }
    const already = this.running.get(hash);
    if (already !== undefined) {
      this.hits++;
      try {
        const result = await already;
        this.done(t0);
        return { hash, result, cached: true };
      } catch (e) {
        throw this.failed(e);
      }
    }
    this.misses++;
    const p = (async () => work(hash, o.signal))();
    this.running.set(hash, p);
    try {
      const result = await p;
      this.cache.set(hash, result);
      if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      this.done(t0);
      return { hash, result, cached: false };
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.running.delete(hash);
    }
  }

  /** Counts an intake that ended in an error, and gives the error back to throw. */
  private failed(e: unknown): unknown {
    this.errors++;
    this.updated = this.now();
    return e;
  }

  private done(t0: number): void {
    const t = this.now();
    this.processed++;
    this.latencyTotal += t - t0;
    this.updated = t;
  }

  /** Forgets every cached answer (the metrics stay). */
  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }

  metrics(): IntakeMetrics {
    return {
      total_processed: this.processed,
      cache_hits: this.hits,
      cache_misses: this.misses,
      avg_latency_ms: this.processed === 0 ? 0 : this.latencyTotal / this.processed,
      error_count: this.errors,
      cache_hit_rate: this.processed === 0 ? 0 : this.hits / this.processed,
      last_updated: this.updated,
    };
  }
}
