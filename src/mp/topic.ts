import { patternMatcher as matcherOf } from '../util/pattern.js';
import { TopicError } from './errors.js';

/** Longest topic or pattern, in characters. */
export const MAX_TOPIC_LENGTH = 512;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const known = new Set<string>();

function tokens(s: unknown, what: string): string[] {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_TOPIC_LENGTH)
    throw new TopicError(`a ${what} is a string of 1-${MAX_TOPIC_LENGTH} characters`, {
      [what]: typeof s === 'string' ? s.slice(0, 80) : null,
    });
  return s.split('.');
}

/**
 * Throws unless `topic` is a topic: dot-separated tokens of letters, digits, `_` and `-`
 * (`jit.sws.<id>.patch`). Wildcards belong to patterns only.
 */
export function checkTopic(topic: unknown): string {
  if (typeof topic === 'string' && known.has(topic)) return topic;
  for (const t of tokens(topic, 'topic'))
    if (!TOKEN.test(t))
      throw new TopicError(
        `topic "${topic as string}" has a bad token "${t}" (tokens are letters, digits, "_" or "-"; wildcards only in patterns)`,
        { topic: topic as string },
      );
  // topics repeat: remember the last few thousand that passed (cleared when full, so bounded)
  if (known.size >= 4096) known.clear();
  known.add(topic as string);
  return topic as string;
}

/** Throws unless `pattern` is a pattern: tokens, `*` for one token, `>` (last only) for the rest. */
export function checkPattern(pattern: unknown): string {
  const ts = tokens(pattern, 'pattern');
  ts.forEach((t, i) => {
    if (t === '*' || TOKEN.test(t)) return;
    if (t === '>' && i === ts.length - 1) return;
    throw new TopicError(
      `pattern "${pattern as string}" has a bad token "${t}" ("*" is one token, ">" the rest and only last)`,
      { pattern: pattern as string },
    );
  });
  return pattern as string;
}

/** A matcher for a (checked) pattern, NATS style. */
export function patternMatcher(pattern: string): (topic: string) => boolean {
  return matcherOf(checkPattern(pattern));
}

/** The SWS topics of RFC-0008 and the kernel's own. */
export const Topics = {
  swsPatch: (sws: string) => `jit.sws.${sws}.patch`,
  swsAnalyze: (sws: string) => `jit.sws.${sws}.analyze`,
  swsCommit: (sws: string) => `jit.sws.${sws}.commit`,
  swsDiscard: (sws: string) => `jit.sws.${sws}.discard`,
  swsStatus: (sws: string) => `jit.sws.${sws}.status`,
  kernelEvents: 'jit.kernel.events',
  kernelSync: 'jit.kernel.sync',
  kernelRefUpdates: 'jit.kernel.ref_updates',
  kernelSwsLifecycle: 'jit.kernel.sws_lifecycle',
  /** Who may do what changed: an SWS's members, the ACL's rules, the trust store (AclView). */
  kernelPolicy: 'jit.kernel.policy',
} as const;

/**
 * Topics only the kernel may publish on (`jit.kernel.>`, `jit.sws.*.status`): a message there not
 * signed by the kernel is dropped. Checked on every delivery, so without splitting the topic.
 */
export function isKernelTopic(topic: string): boolean {
  if (!topic.startsWith('jit.')) return false;
  if (topic.startsWith('jit.kernel.')) return topic.length > 11;
  if (!topic.startsWith('jit.sws.') || !topic.endsWith('.status')) return false;
  const middle = topic.slice(8, -7);
  return middle.length > 0 && !middle.includes('.');
}
