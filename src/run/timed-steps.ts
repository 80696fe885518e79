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
    const running: Promise<unknown>[] = [];
    try {
      for (const atMs of times) {
        const wait = atMs - (performance.now() - this.t0);
        if (wait > 0) await sleepFor(wait, undefined, { signal: this.signal });
        this.signal.throwIfAborted();
        const ends = await Promise.all(
          steps.filter((s) => s.atMs === atMs).map((s) => this.guard(s.begin(this.signal))),
        );
        for (const end of ends) if (end) running.push(this.guard(end.done));
        this.signal.throwIfAborted();
      }
      await Promise.all(running);
    } catch (err) {
      this.cancel(err);
    }
    if (this.failure) {
      // Let the running steps see the abort and settle, so nothing outlives the timeline.
      await Promise.allSettled(running);
      throw this.failure.error;
    }
  }

  /** The first failure anywhere cancels the whole timeline. */
  private guard<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      this.cancel(err);
      throw err;
    });
  }
}
