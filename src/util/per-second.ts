/**
 * A budget of `limit` events per wall-clock second (performance.now): `take()` says whether one
 * more fits in the current second. For reporting floods without reporting every event.
 */
export function perSecond(limit: number): () => boolean {
  let second = -1;
  let used = 0;
  return () => {
    const now = Math.floor(performance.now() / 1000);
    if (now !== second) {
      second = now;
      used = 0;
    }
    return ++used <= limit;
  };
}
