/**
 * Lets a long job on the event loop give way to everything else. The function it returns is
 * awaited often inside the job (every few thousand items); once `budgetMs` has passed since the
 * last yield it yields to I/O (a `setImmediate` turn), else it returns at once. So the job never
 * holds the loop much longer than `budgetMs` at a time, and costs next to nothing when alone.
 */
export type GiveWay = () => Promise<void>;

export function giveWay(budgetMs = 4): GiveWay {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await new Promise<void>((r) => setImmediate(r));
    since = performance.now();
  };
}

/** For callers that run to the end in one go (tests, offline tools). */
export const noGiveWay: GiveWay = () => Promise.resolve();
