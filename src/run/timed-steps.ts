/**
 * A scenario's timeline: traffic, floods and faults at their `at` times, in order.
 *
 * A step starts at its time, but never before every step scheduled earlier has taken effect. On
 * a busy machine an `iptables` exec or a flood can take longer than the gap to the next step
 * (a rule at 0 s, traffic at 200 ms): the traffic then waits for the rule instead of sending its
 * SYNs past it. The scenario's evidence depends on the order of its steps, never on how fast the
 * machine happens to be.
 *
 * The first step that fails cancels the rest: pending waits end, running steps are told through
 * their AbortSignal (a generator is killed), and `run` rejects with that first error.
 */
import { setTimeout as sleepFor } from "node:timers/promises";

export interface TimedStep {
  /** When, in ms after the timeline's t = 0. */
  atMs: number;
  /**
   * Starts the step and resolves once it is in effect (a rule is in, a generator runs, a flood
   * was sent). `done`, when given, settles when the step is over (the generator exited); it is
   * wrapped because a promise resolved with a promise would wait for it.
   */
  begin(signal: AbortSignal): Promise<{ done: Promise<unknown> } | void>;
}

export class TimedSteps {
  private readonly controller = new AbortController();
  private failure: { error: unknown } | undefined;

  /** @param t0 performance.now() at the timeline's t = 0. */
  constructor(private readonly t0: number) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stop everything still to come or running (an interrupt, a deadline, a failed step). */
  cancel(reason: unknown): void {
    this.failure ??= { error: reason };
    this.controller.abort(reason);
  }

  async run(steps: TimedStep[]): Promise<void> {
    const times = [...new Set(steps.map((s) => s.atMs))].sort((a, b) => a - b);
    // Every step begun and every step running is kept, whatever happens to the others: a step
    // still starting when another fails gets its `done` tracked (and awaited) all the same.
    // Before, a generator that came up after a fault had failed was never awaited; it exited,
    // saw the abort, and its rejection crashed the process mid-teardown.
    const begun: Promise<void>[] = [];
    const running: Promise<unknown>[] = [];
    const start = (s: TimedStep) => {
      const p = this.settle(
        (async () => {
          const end = await s.begin(this.signal);
          if (end) running.push(this.settle(end.done));
        })(),
      );
      begun.push(p);
      return p;
    };
    try {
      for (const atMs of times) {
        const wait = atMs - (performance.now() - this.t0);
        if (wait > 0) await sleepFor(wait, undefined, { signal: this.signal });
        this.signal.throwIfAborted();
        await Promise.all(steps.filter((s) => s.atMs === atMs).map(start));
        this.signal.throwIfAborted();
      }
    } catch (err) {
      this.cancel(err); // an abort while waiting: `failure` already holds why
    }
    // Let every step that began settle (after an abort: see it and stop), so nothing outlives
    // the timeline. `begun` is complete here; `running` only grows while `begun` settles.
    await Promise.all(begun);
    await Promise.all(running);
    if (this.failure) throw this.failure.error;
  }

  /**
   * A step's promise that never rejects: the first failure anywhere is recorded and cancels
   * the whole timeline. Nothing here can become an unhandled rejection.
   */
  private settle<T>(p: Promise<T>): Promise<T | undefined> {
    return p.catch((err: unknown) => {
      this.cancel(err);
      return undefined;
    });
  }
}
