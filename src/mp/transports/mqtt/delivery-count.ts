import { createHash, randomBytes } from 'node:crypto';
import { debuglog } from 'node:util';
import type { MqttClient } from 'mqtt';
import { loadMqtt } from './load.js';

const debug = debuglog('jit:mqtt');

/** How long one look at a group's record may take before it is tried again. */
const LOOK_MS = 5000;
/** Looks tried before a redelivery is counted without its record. */
const LOOKS = 4;

/**
 * Counts a durable group's deliveries, which MQTT does not: a message the broker sends again after
 * its consumer went away carries only the DUP flag. The adapter hands the plane one unacknowledged
 * delivery at a time, so when a group's session resumes, its first delivery, if it carries DUP, is
 * the very message the last member held (the broker sends what it had in flight again, oldest
 * first). A retained record per group, `<root>/<group>`, holds that message's digest and count:
 *
 * - any other delivery counts 1, and nothing is read or written;
 * - that first DUP delivery reads the record (count + 1 when the digest matches, else 2) and writes
 *   the new count back before the plane sees it, so a member that dies holding it leaves the
 *   count behind;
 * - acknowledging a counted message clears the record.
 *
 * So a resumed session costs one short connection, and nothing else does. The record lives as long
 * as the broker keeps retained messages (Mosquitto with persistence: across restarts, up to its
 * last save).
 */
export class DeliveryCounts {
  private readonly url: string;
  private readonly root: string;
  private readonly publisher: () => Promise<MqttClient>;
  private readonly looking = new Set<MqttClient>();

  constructor(url: string, root: string, publisher: () => Promise<MqttClient>) {
    this.url = url;
    this.root = root;
    this.publisher = publisher;
  }

  /** The digest that names one message of a group. */
  static digest(topic: string, data: Uint8Array): string {
    return createHash('sha256')
      .update(topic)
      .update('\u0000')
      .update(data)
      .digest('hex')
      .slice(0, 32);
  }

  /**
   * The count of a DUP delivery, made durable before it returns. Tries `LOOKS` times; then it
   * gives 2, the least the DUP flag proves, unrecorded (a broker that refuses the record, e.g. an
   * ACL without `<prefix>-deliveries/#`, must not hold the message back for ever). Undefined when
   * `gone` says the subscription closed meanwhile: the message is left unacknowledged and comes
   * back to the next member.
   */
  async redelivered(
    group: string,
    digest: string,
    gone: () => boolean,
  ): Promise<number | undefined> {
    for (let k = 1, wait = 100; !gone(); k++, wait *= 2) {
      try {
        return await this.look(`${this.root}/${group}`, digest);
      } catch (e) {
        if (k === LOOKS) {
          debug('delivery count of %s in %s not kept (counted 2): %s', digest, group, String(e));
          return 2;
        }
        debug('delivery count of %s in %s not read (trying again): %s', digest, group, String(e));
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    return undefined;
  }

  /** Forgets a group's record once the message it counts is acknowledged; best effort. */
  clear(group: string): void {
    this.publisher()
      .then((c) =>
        c.publishAsync(`${this.root}/${group}`, Buffer.alloc(0), { qos: 1, retain: true }),
      )
      .catch((e: unknown) => debug('delivery count of %s not cleared: %s', group, String(e)));
  }

  /** Ends the connections of looks under way. */
  async close(): Promise<void> {
    await Promise.all([...this.looking].map((c) => c.endAsync(true).catch(() => undefined)));
  }

  /**
   * Reads the record on a connection of its own, then writes the new count. The broker sends a
   * subscription's retained message before anything published after the SUBACK, so once a probe
   * published then comes back, the record (if any) has arrived.
   */
  private async look(topic: string, digest: string): Promise<number> {
    const c = await (await loadMqtt()).connectAsync(this.url, {
      clientId: `jit-count-${randomBytes(6).toString('hex')}`,
      clean: true,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: LOOK_MS,
    });
    this.looking.add(c);
    let timer: NodeJS.Timeout | undefined;
    try {
      const probe = `${topic}/probe-${randomBytes(6).toString('hex')}`;
      let record: Buffer | undefined;
      const probed = new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${LOOK_MS} ms`)), LOOK_MS);
        c.on('message', (t, m) => {
          if (t === topic) record = m;
          else if (t === probe) resolve();
        });
        c.once('close', () => reject(new Error('the connection closed')));
      });
      probed.catch(() => undefined); // the awaits below surface it
      await c.subscribeAsync(`${topic}/#`, { qos: 1 });
      await c.publishAsync(probe, Buffer.alloc(0), { qos: 1 });
      await probed;
      const n = countAfter(record, digest);
      await c.publishAsync(topic, Buffer.from(JSON.stringify({ d: digest, n })), {
        qos: 1,
        retain: true,
      });
      return n;
    } finally {
      clearTimeout(timer);
      this.looking.delete(c);
      await c.endAsync().catch(() => undefined);
    }
  }
}

/** The count a DUP delivery of `digest` gets, after the record `bytes` (if any). */
export function countAfter(bytes: Uint8Array | undefined, digest: string): number {
  if (bytes === undefined || bytes.length === 0) return 2;
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as { d?: unknown; n?: unknown };
    if (r.d === digest && typeof r.n === 'number' && Number.isSafeInteger(r.n) && r.n >= 2)
      return r.n + 1;
  } catch {
    // a record that is not ours counts as none
  }
  return 2;
}
