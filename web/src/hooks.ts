import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';
import { onEvents, onReset, onTick } from './stream.js';
import type { LiveEvent, Tick } from './types.js';

/** Refetches at most this often while events keep coming. */
const THROTTLE_MS = 300;

/**
 * A JSON resource kept current: fetched on mount, and again (throttled) whenever an event that
 * `affects` it arrives or the stream resets. Returns the value, or the error's message.
 */
export function useResource<T>(
  path: string | null,
  affects: (e: LiveEvent) => boolean,
): { value: T | undefined; error: string | undefined } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const affectsRef = useRef(affects);
  affectsRef.current = affects;
  useEffect(() => {
    if (path === null) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    const load = async (): Promise<void> => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      try {
        const v = await get<T>(path);
        if (alive) {
          setValue(v);
          setError(undefined);
        }
      } catch (e) {
        if (alive) setError((e as Error).message);
      } finally {
        inFlight = false;
        if (again && alive) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, THROTTLE_MS);
    };
    void load();
    const offEvents = onEvents((batch) => {
      if (batch.some((e) => affectsRef.current(e))) schedule();
    });
    const offReset = onReset(() => schedule());
    return () => {
      alive = false;
      if (timer !== undefined) clearTimeout(timer);
      offEvents();
      offReset();
    };
  }, [path]);
  return { value, error };
}

/** The latest tick (agents, negotiations, rates), and the last `keep` of them for charts. */
export function useTicks(keep: number): readonly Tick[] {
  const [ticks, setTicks] = useState<readonly Tick[]>([]);
  useEffect(() => {
    let alive = true;
    get<{ ticks: Tick[] }>('/api/live')
      .then((r) => {
        if (alive) setTicks((now) => (now.length > 0 ? now : r.ticks.slice(-keep)));
      })
      .catch(() => undefined);
    const off = onTick((t) => setTicks((now) => [...now.slice(-(keep - 1)), t]));
    return () => {
      alive = false;
      off();
    };
  }, [keep]);
  return ticks;
}
