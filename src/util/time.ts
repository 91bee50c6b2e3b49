/**
 * `p`'s value, or `fallback` if `p` has not settled within `ms` (a rejection of `p` in time is
 * passed on). The timer is cleared either way, so it never holds the process open.
 */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
