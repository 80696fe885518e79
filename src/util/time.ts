import { StepTimeoutError } from "./errors.js";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects with StepTimeoutError naming the step when `promise` does not settle within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepTimeoutError(`${step} did not finish within ${Math.round(ms)} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `ms` passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  step: string,
  everyMs = 20,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new StepTimeoutError(`${step}: not true within ${ms} ms`);
    await sleep(everyMs);
  }
}
