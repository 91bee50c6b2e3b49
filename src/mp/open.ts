import type { Signer } from '../identity/index.js';
import { TopicError } from './errors.js';
import type { MemoryBroker } from './memory.js';
import { NativeTransport } from './native.js';
import type { Transport } from './transport.js';
import { MqttTransport } from './transports/mqtt/index.js';
import { NatsTransport } from './transports/nats/index.js';
import { RedisTransport } from './transports/redis/index.js';

/** A plane URL with any password replaced, for logs and `jit info`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The transport a plane URL names: `nats://[user:pass@]host:port[?stream=S&prefix=P]` (NATS
 * JetStream), `redis://[user:pass@]host:port[/db][?stream=KEY]` (Redis Streams), `mqtt://[user:pass@]host:port[?prefix=P]` (MQTT 5), `jit://host:port` (jitd's TCP relay), `memory:` (needs `broker`), or a path (jitd's
 * Unix socket relay). `login`: the agent a jitd relay connection logs in as.
 */
export function openTransport(
  url: string,
  opts: { broker?: MemoryBroker; login?: Signer } = {},
): Transport {
  const login = opts.login ? { login: opts.login } : {};
  if (url === 'memory:') {
    if (opts.broker === undefined)
      throw new TopicError('plane "memory:" needs an in-process broker');
    return opts.broker.connect();
  }
  if (url.startsWith('nats://')) {
    const u = new URL(url);
    const stream = u.searchParams.get('stream');
    const prefix = u.searchParams.get('prefix');
    const ack = u.searchParams.get('ack_wait_ms');
    return new NatsTransport({
      url,
      ...(stream ? { stream } : {}),
      ...(prefix ? { prefix } : {}),
      ...(ack ? { ackWaitMs: Number(ack) } : {}),
    });
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const u = new URL(url);
    const stream = u.searchParams.get('stream');
    const ack = u.searchParams.get('ack_wait_ms');
    u.search = '';
    return new RedisTransport({
      url: u.toString(),
      ...(stream ? { stream } : {}),
      ...(ack ? { ackWaitMs: Number(ack) } : {}),
    });
  }
  if (url.startsWith('mqtt://') || url.startsWith('mqtts://')) {
    const u = new URL(url);
    const prefix = u.searchParams.get('prefix');
    u.search = '';
    return new MqttTransport({ url: u.toString(), ...(prefix ? { prefix } : {}) });
  }
  const m = /^jit:\/\/([^:/]+):(\d+)\/?$/.exec(url);
  if (m !== null) return new NativeTransport({ host: m[1]!, port: Number(m[2]) }, login);
  if (/^[a-z]+:\/\//.test(url))
    throw new TopicError(
      `unknown plane URL scheme in ${redactUrl(url)} (use nats://, redis://, mqtt://, jit://, memory: or a socket path)`,
    );
  return new NativeTransport({ path: url }, login);
}
