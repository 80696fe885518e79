/**
 * Interrupt a run at random moments — topology coming up, traffic, a SIGSTOPped app, collection,
 * teardown — with SIGINT, SIGTERM or SIGKILL, and count what is left afterwards. After SIGINT
 * or SIGTERM nothing may be left; after SIGKILL, `tcprepro clean` must leave nothing.
 * TCPREPRO_INTERRUPTS=N sets how many (default 6; .ci/run uses more).
 */
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cli, leftovers } from "./helpers.js";

const COUNT = Number(process.env.TCPREPRO_INTERRUPTS ?? 6);
const INSTANCES = "/sys/kernel/tracing/instances";
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGKILL"];

/** A small deterministic PRNG, so a failing moment can be replayed from the seed in the log. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("teardown on every path", () => {
  const seed = Number(process.env.TCPREPRO_SEED ?? Date.now() % 100_000);
  const random = prng(seed);
  const tally = { tried: 0, leftovers: 0 };

  for (let i = 0; i < COUNT; i++) {
    const signal = SIGNALS[i % SIGNALS.length]!;
    // sigstop-recovery: up ~1 s, app SIGSTOPped at 0, traffic from 0.3 s, SIGCONT at 2.5 s, ~6 s in all.
    const delayMs = Math.round(300 + random() * 6500);
    it(`${signal} ${delayMs} ms after the first topology event (seed ${seed})`, async () => {
      const run = await cli(
        ["run", "scenarios/sigstop-recovery.yaml", "--variant", "baseline"],
        undefined,
        {},
        [],
        {
          trigger: /starting/,
          afterMs: delayMs,
          signal,
        },
      );
      // A moment after the run ended makes this a normal run: still nothing may be left.
      if (signal === "SIGKILL" && run.signal === "SIGKILL") {
        const clean = await cli(["clean"]);
        expect(clean.code, clean.stderr).toBe(0);
      } else if (run.signal === null && run.code !== 0) {
        expect([130, 143]).toContain(run.code);
      }
      const left = await leftovers(run.pid);
      // A SIGKILLed run's kernel trace instance (drop reasons) must be gone too.
      const traces = existsSync(INSTANCES)
        ? readdirSync(INSTANCES).filter((n) => n.endsWith(`-p${run.pid}`))
        : [];
      expect(traces).toEqual([]);
      tally.tried++;
      tally.leftovers += left.containers + left.networks;
      expect(left).toEqual({ containers: 0, networks: 0 });
    });
  }

  it("summary", () => {
    process.stderr.write(
      `interrupts tried: ${tally.tried}, leftovers found: ${tally.leftovers} (seed ${seed})\n`,
    );
    expect(tally.leftovers).toBe(0);
  });
});
