/**
 * One variant, as named steps: up → ready → baseline counters → timeline → collect → down →
 * judge. Each step is timed and announced (`variant.step`). The steps share one state
 * (variant-state.ts) where each registers what it starts; `stop()` takes all of it down on
 * every path: a failed step, a deadline, Ctrl-C.
 */
import { snapshotAll } from "../evidence/collect.js";
import type { VariantStep } from "../report/events.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Variant } from "../scenario/load.js";
import { capabilitySkipReason, skipReason } from "../verdict/requires.js";
import { familySkipReason } from "../verdict/family.js";
import type { VariantResult } from "../verdict/result.js";
import { onInterrupt } from "../util/interrupts.js";
import { withDeadline } from "../util/time.js";
import { collect } from "./collect.js";
import { familyOf, judge } from "./judge.js";
import { planTopology } from "./plan.js";
import { getReady } from "./ready.js";
import { playTimeline } from "./schedule.js";
import { newRunId, VariantState, type VariantContext } from "./variant-state.js";

export { newRunId, type VariantContext } from "./variant-state.js";

export const emptyResult = (
  variant: string,
): Omit<VariantResult, "verdict" | "reason" | "durationMs"> => ({
  variant,
  nodes: {},
  clients: { attempts: 0, outcomes: {}, connectMs: null, replyMs: null },
  attempts: [],
  expectations: [],
  causes: [],
  unchecked: [],
});

export async function runVariant(ctx: VariantContext, variant: Variant): Promise<VariantResult> {
  const started = performance.now();
  const s = variant.scenario;
  const skip =
    skipReason(s, ctx.kernel) ??
    capabilitySkipReason(s, ctx.runtime.capabilities, ctx.runtime.name, ctx.kernel.release) ??
    familySkipReason(s, ctx.runtime.capabilities);
  if (skip)
    return {
      ...emptyResult(variant.name),
      ...familyOf(s),
      verdict: "skip",
      reason: skip,
      durationMs: 0,
    };

  const st = new VariantState(ctx, variant, planTopology(s, newRunId()));
  const ms: Partial<Record<VariantStep, number>> = {};
  const step = async <T>(name: VariantStep, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const value = await fn();
    ms[name] = Math.round(performance.now() - t0);
    ctx.emit({ kind: "variant.step", ...st.where, step: name, ms: ms[name] });
    return value;
  };
  // Ctrl-C/SIGTERM: stop the steps and take down what they started before the process exits.
  const untrack = onInterrupt(async () => {
    st.abort(new Error("interrupted"));
    await st.stop();
  });
  try {
    const down = await step("up", () => bringUp(st));
    ctx.emit({ kind: "topology.up", ...st.where, ...sizeOf(st), ms: ms.up! });
    const { evidence, timeline, captureFiles } = await withDeadline(
      (async () => {
        await step("ready", () => getReady(st));
        st.before = await step("baseline", () => snapshotAll(st.topo.nodes.values()));
        await step("timeline", () => playTimeline(st));
        return step("collect", () => collect(st));
      })(),
      s.timeout + st.limits.marginMs,
      `scenario ${ctx.scenario} (${variant.name})`,
    ).catch((err: unknown) => {
      // A deadline leaves the steps running: stop them; what they started goes down below.
      st.abort(err);
      throw err;
    });
    await step("down", down);
    ctx.emit({ kind: "topology.down", ...st.where, ms: ms.down! });
    const timing = {
      upMs: ms.up!,
      downMs: ms.down!,
      timelineMs: st.played!.timelineMs,
      durationMs: Math.round(performance.now() - started),
    };
    const result = await step("judge", async () => judge(variant, evidence, timing));
    for (const [name, file] of Object.entries(captureFiles))
      if (result.nodes[name]) result.nodes[name]!.capture = file;
    return { ...result, timeline };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const durationMs = Math.round(performance.now() - started);
    return { ...emptyResult(variant.name), ...familyOf(s), verdict: "error", reason, durationMs };
  } finally {
    await st.stop();
    untrack();
  }
}

const sizeOf = (st: VariantState) => ({
  nodes: st.plan.nodes.length,
  networks: st.plan.networks.length,
});

/**
 * The `up` step: node images (built when missing), then the topology, bounded. Returns its
 * teardown, which is also registered with the state: a topology whose `up` is still going when
 * the variant stops is let settle (bounded), then the run is swept by its label.
 */
async function bringUp(st: VariantState): Promise<() => Promise<void>> {
  const { runtime, emit } = st.ctx;
  if (runtime.images) {
    const progress = (message: string) => emit({ kind: "prepare", message });
    st.plan = await withDeadline(
      runtime.images(st.plan, progress),
      st.limits.imagesMs,
      "node images",
    );
  }
  const plan = st.plan;
  const topology = runtime.up(plan);
  const down = st.own("topology", async () => {
    // Bounded, and the timer cleared: a pending one would hold the process open after the run.
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      topology.then(
        (t): StartedTopology | "failed" => t,
        () => "failed" as const,
      ),
      new Promise<undefined>(
        (r) => (timer = setTimeout(() => r(undefined), st.limits.interruptUpMs)),
      ),
    ]).finally(() => clearTimeout(timer));
    // A failed `up` cleans up after itself; the sweep by label makes sure of it.
    if (settled === "failed") return runtime.remove(plan.runId);
    if (settled) return settled.down();
    // Still coming up: sweep by label now, and once more if it finishes after all.
    void topology.then((t) => t.down()).catch(() => undefined);
    await runtime.remove(plan.runId);
  });
  st.topology = await withDeadline(topology, st.limits.upMs, "topology up");
  return down;
}
