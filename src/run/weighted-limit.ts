/**
 * A limiter by weight: jobs start in the order given while the weights running fit the capacity
 * (and their count fits `maxJobs`). A job heavier than the capacity runs alone. The head of the
 * queue waits until it fits — nothing overtakes it, so a heavy variant is never starved by a
 * stream of light ones, and the order the caller chose (longest first) is the order they start.
 */
export interface WeightedLimit {
  <T>(weight: number, job: () => Promise<T>): Promise<T>;
}

export function weightedLimit(capacity: number, maxJobs = Infinity): WeightedLimit {
  const cap = Math.max(1, capacity);
  let used = 0;
  let running = 0;
  const queue: { weight: number; go: () => void }[] = [];
  const pump = () => {
    while (queue.length > 0) {
      const head = queue[0]!;
      const fits = running === 0 || (used + head.weight <= cap && running < maxJobs);
      if (!fits) return;
      queue.shift();
      used += head.weight;
      running++;
      head.go();
    }
  };
  return <T>(weight: number, job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const w = Math.min(Math.max(0, weight), cap);
      queue.push({
        weight: w,
        go: () => {
          void (async () => {
            try {
              resolve(await job());
            } catch (err) {
              reject(err as Error);
            } finally {
              used -= w;
              running--;
              pump();
            }
          })();
        },
      });
      pump();
    });
}
