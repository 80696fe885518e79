/**
 * One variant, as named steps: up → ready → baseline counters → timeline → collect → down →
 * judge. Each step is timed and announced (`variant.step`); the topology goes down on every
 * path, an error or Ctrl-C included.
 */
import { randomBytes } from "node:crypto";
import { snapshotAll } from "../evidence/collect.js";
import type { EventSink, VariantStep } from "../report/events.js";
import type {
  KernelInventory,
  Runtime,
  StartedTopology,
  TopologyPlan,
} from "../runtime/runtime.js";
import type { Variant } from "../scenario/load.js";
import { capabilitySkipReason, skipReason } from "../verdict/requires.js";
import type { VariantResult } from "../verdict/result.js";
import { onInterrupt } from "../util/interrupts.js";
import { sleep, withDeadline } from "../util/time.js";
import { collect } from "./collect.js";
import { judge } from "./judge.js";
import { planTopology } from "./plan.js";
import { abandon, getReady } from "./ready.js";
import { playTimeline, type Played } from "./schedule.js";

export interface VariantContext {
  runtime: Runtime;
  kernel: KernelInventory;
  emit: EventSink;
  scenario: string;
  /** Capture every node's packets, not only those with `capture: true`. */
  captureAll?: boolean;
  /** Where captures are kept: `<dir>/<scenario>/<variant>/<node>.pcap`. */
  capturesDir?: string;
}

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

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

type Step = <T>(name: VariantStep, fn: () => Promise<T>) => Promise<T>;

/** Runs the named steps of one variant: each timed into `ms`, with an event once it is done. */
function stepper(
  ctx: VariantContext,
  variant: string,
  ms: Partial<Record<VariantStep, number>>,
): Step {
  return async (step, fn) => {
    const start = performance.now();
    const value = await fn();
    ms[step] = Math.round(performance.now() - start);
    ctx.emit({ kind: "variant.step", scenario: ctx.scenario, variant, step, ms: ms[step] });
    return value;
  };
}

export async function runVariant(ctx: VariantContext, variant: Variant): Promise<VariantResult> {
  const started = performance.now();
  const s = variant.scenario;
  const skip =
    skipReason(s, ctx.kernel) ??
    capabilitySkipReason(s, ctx.runtime.capabilities, ctx.runtime.name, ctx.kernel.release);
  if (skip) return { ...emptyResult(variant.name), verdict: "skip", reason: skip, durationMs: 0 };

  const ms: Partial<Record<VariantStep, number>> = {};
  const step = stepper(ctx, variant.name, ms);
  const where = { scenario: ctx.scenario, variant: variant.name };
  const { plan: planned, instances } = planTopology(s, newRunId());
  let up: ReturnType<typeof bringUp> | undefined;
  const aborter = new AbortController();
  const untrack = onInterrupt(async () => aborter.abort(new Error("interrupted")));
  try {
    const plan = await nodeImages(ctx, planned);
    up = bringUp(ctx.runtime, plan);
    const { topology } = up;
    const topo = await step("up", () => withDeadline(topology, 60_000, "topology up"));
    const size = { nodes: plan.nodes.length, networks: plan.networks.length };
    ctx.emit({ kind: "topology.up", ...where, ...size, ms: ms.up! });
    const onTopology = async () => {
      const ready = await step("ready", () => getReady(ctx, s, topo, instances));
      let played: Played | undefined;
      try {
        const before = await step("baseline", () => snapshotAll(topo.nodes.values()));
        played = await step("timeline", () =>
          playTimeline(ctx, variant.name, s, topo, instances, ready, before, aborter.signal),
        );
        const done = played;
        const collected = await step("collect", () =>
          collect(ctx, variant.name, topo, instances, ready, before, done),
        );
        return { ...collected, timelineMs: done.timelineMs };
      } catch (err) {
        // Nothing that `ready` or the timeline started may keep the process alive after an
        // ERROR: the tracer, the captures, and the sampler (it runs on into collect).
        abandon(ready);
        played?.sampler.cancel();
        throw err;
      }
    };
    const { evidence, timeline, captureFiles, timelineMs } = await withDeadline(
      onTopology(),
      s.timeout + 30_000,
      `scenario ${ctx.scenario} (${variant.name})`,
    ).catch((err: unknown) => {
      // A deadline leaves the timeline running: stop it; the topology goes down below.
      aborter.abort(err);
      throw err;
    });
    await step("down", () => topo.down());
    ctx.emit({ kind: "topology.down", ...where, ms: ms.down! });
    const timing = {
      upMs: ms.up!,
      downMs: ms.down!,
      timelineMs,
      durationMs: Math.round(performance.now() - started),
    };
    const result = await step("judge", async () => judge(variant, evidence, timing));
    for (const [name, file] of Object.entries(captureFiles))
      if (result.nodes[name]) result.nodes[name]!.capture = file;
    return { ...result, timeline };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const durationMs = Math.round(performance.now() - started);
    return { ...emptyResult(variant.name), verdict: "error", reason, durationMs };
  } finally {
    untrack();
    await up?.release();
  }
}

/** Bound on making a variant's node images (apt downloads, builds) when they are not cached. */
const IMAGES_DEADLINE_MS = 600_000;

/** Nodes with `build:` or `packages:` get their image first (cached by content). */
async function nodeImages(ctx: VariantContext, plan: TopologyPlan): Promise<TopologyPlan> {
  if (!ctx.runtime.images) return plan;
  const progress = (message: string) => ctx.emit({ kind: "prepare", message });
  return withDeadline(ctx.runtime.images(plan, progress), IMAGES_DEADLINE_MS, "node images");
}

/**
 * The `up` step's promise, and its release: on Ctrl-C/SIGTERM a half-done `up` is let settle
 * (bounded), then the run is swept by its label; on every other path the topology goes down.
 */
function bringUp(
  runtime: Runtime,
  plan: TopologyPlan,
): { topology: Promise<StartedTopology>; release(): Promise<void> } {
  const topology = runtime.up(plan);
  const untrack = onInterrupt(async () => {
    await Promise.race([topology.catch(() => undefined), sleep(15_000)]);
    await runtime.remove(plan.runId);
  });
  return {
    topology,
    release: async () => {
      await topology.then(
        (t) => t.down(),
        () => undefined,
      );
      untrack();
    },
  };
}
