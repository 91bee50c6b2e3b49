import { get, type IncomingMessage } from 'node:http';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/** A server-sent-event stream read as a test reads it: every event kept, waited on by predicate. */
export interface SseStream {
  readonly events: SseEvent[];
  /** Resolves with the first event (already received or to come) that `pick` accepts. */
  next(pick: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/**
 * The complete events in `text` (blocks ended by a blank line), as an EventSource reads them:
 * `event` (default "message"), the `data` lines joined by newlines, the last `id`; a block without
 * data is no event (`retry:` alone, say). `rest` is what follows the last complete block.
 */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let buf = text;
  for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
    const block = buf.slice(0, end);
    buf = buf.slice(end + 2);
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const at = line.indexOf(':');
      const field = at < 0 ? line : line.slice(0, at);
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length > 0) events.push({ event, data: data.join('\n'), id });
  }
  return { events, rest: buf };
}

export function openSse(url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream' } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${url}: HTTP ${res.statusCode}`));
        return;
      }
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parsed = parseSse(buf + chunk);
        buf = parsed.rest;
        events.push(...parsed.events);
        for (const w of waiters) w();
      });
      resolve({
        events,
        next(pick, timeoutMs = 10_000) {
          return new Promise((ok, fail) => {
            let seen = 0;
            const check = (): void => {
              for (; seen < events.length; seen++)
                if (pick(events[seen]!)) {
                  waiters.delete(check);
                  clearTimeout(timer);
                  ok(events[seen]!);
                  return;
                }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(
                new Error(`no matching event within ${timeoutMs} ms (${events.length} received)`),
              );
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
