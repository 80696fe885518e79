/** Many loaded scenarios on one runtime → one report. */
import { availableParallelism } from "node:os";
import type { EventSink } from "../report/events.js";
import type { KernelInventory, Runtime } from "../runtime/runtime.js";
import type { LoadedScenario, Variant } from "../scenario/load.js";
import { UsageError } from "../util/errors.js";
import { combineRepeats } from "../verdict/repeat.js";
import type { RunReport, ScenarioResult, VariantResult } from "../verdict/result.js";
import { runVariant } from "./run-variant.js";
import { autoCapacity, needsKernelAlone, variantWeight } from "./cost.js";
import { longestFirst, readDurations, recordDurations } from "./durations.js";
import { weightedLimit } from "./weighted-limit.js";
import { isStopping } from "../util/interrupts.js";
import { VERSION } from "../util/project.js";

// Scenario loading lives with the engine; these names stay importable from here.
export { expandPaths, loadAll } from "../engine/load.js";

export interface RunOptions {
  runtime: Runtime;
  emit: EventSink;
  /** Run only this variant (by name) of each scenario. */
  variant?: string;
  /** Run only the variants this accepts (a shard of a matrix). */
  select?: (scenario: string, variant: string) => boolean;
  /**
   * Variants run at once (each on its own networks and names): a number, or `auto`: packed by
   * what each costs (cost.ts) on the runtime's CPUs, up to its `maxParallel`.
   * @default "auto"
   */
  parallel?: Parallel;
  /** Runs of each variant; the verdict stands only if all agree. */
  repeat?: number;
  /** Capture every node's packets; where to keep captures. */
  captureAll?: boolean;
  capturesDir?: string;
}

export type Parallel = "auto" | number;

export async function runAll(scenarios: LoadedScenario[], opts: RunOptions): Promise<RunReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  if (opts.variant && !scenarios.some((s) => s.variants.some((v) => v.name === opts.variant))) {
    throw new UsageError(`no scenario has a variant named "${opts.variant}"`);
  }
  const kernel = await opts.runtime.inventory();
  const caps = opts.runtime.capabilities;
  const auto = (opts.parallel ?? "auto") === "auto";
  // A number is a plain count of variants (1: one at a time); auto packs them by weight.
  const capacity = auto
    ? autoCapacity(caps, availableParallelism())
    : Math.min(Math.max(1, opts.parallel as number), caps.maxParallel);
  const limit = weightedLimit(capacity);
  // One at a time, the order changes nothing but the console's: the catalog's then.
  const last = capacity > 1 ? readDurations(opts.runtime.name) : new Map<string, number>();
  const measured = new Map<string, number>();
  const announced = new Set<string>();
  const jobs = scenarios.map((sc) => {
    const variants = sc.variants.filter(
      (v) => (!opts.variant || v.name === opts.variant) && (opts.select?.(sc.name, v.name) ?? true),
    );
    const announce = () => {
      if (announced.has(sc.file)) return;
      announced.add(sc.file);
      const names = variants.map((x) => x.name);
      opts.emit({ kind: "scenario.start", scenario: sc.name, file: sc.file, variants: names });
    };
    return { sc, variants, announce, runs: new Map<Variant, Promise<VariantResult | undefined>>() };
  });
  // Started longest first (by the durations of earlier runs on this kernel); reported in order.
  // A variant that needs the kernel alone runs alone, and before the rest: placed among them it
  // would hold a slot while the runtime drains for it, and the slots behind it would wait too.
  const all = jobs.flatMap((j) => j.variants.map((v) => ({ j, v })));
  const ordered = longestFirst(all, (x) => `${x.j.sc.name}/${x.v.name}`, last);
  const alone = (x: { v: Variant }) => needsKernelAlone(x.v.scenario, caps);
  for (const { j, v } of [...ordered.filter(alone), ...ordered.filter((x) => !alone(x))]) {
    const weight = alone({ v }) ? capacity : auto ? variantWeight(v.scenario) : 1;
    j.runs.set(
      v,
      limit(weight, async () => {
        j.announce();
        const r = await runRepeated(opts, kernel, j.sc, v);
        if (r && r.verdict !== "skip" && r.durationMs > 0)
          measured.set(`${j.sc.name}/${v.name}`, r.durationMs / (r.repeat?.runs ?? 1));
        return r;
      }),
    );
  }
  const results: ScenarioResult[] = [];
  for (const { sc, variants: vs, runs } of jobs) {
    const variants = (await Promise.all(vs.map((v) => runs.get(v)!))).filter(
      (r): r is VariantResult => r !== undefined,
    );
    if (variants.length > 0)
      results.push({ name: sc.name, file: sc.file, summary: sc.summary, variants });
  }
  if (!isStopping()) recordDurations(opts.runtime.name, measured);
  return {
    tool: { name: "tcprepro", version: VERSION },
    kernel: kernel.release,
    runtime: opts.runtime.name,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    scenarios: results,
  };
}

/** One variant `repeat` times (fewer when stopping); undefined when it never ran. */
async function runRepeated(
  opts: RunOptions,
  kernel: KernelInventory,
  sc: LoadedScenario,
  v: Variant,
): Promise<VariantResult | undefined> {
  const repeat = Math.max(1, opts.repeat ?? 1);
  const ctx = {
    runtime: opts.runtime,
    kernel,
    emit: opts.emit,
    scenario: sc.name,
    captureAll: opts.captureAll,
    capturesDir: opts.capturesDir,
  };
  const results: VariantResult[] = [];
  for (let i = 0; i < repeat && !isStopping(); i++) {
    const variant = repeat > 1 ? `${v.name} (run ${i + 1}/${repeat})` : v.name;
    opts.emit({ kind: "variant.start", scenario: sc.name, variant });
    results.push(await runVariant(ctx, v));
  }
  if (results.length === 0) return undefined;
  const r = combineRepeats(results);
  opts.emit({ kind: "variant.done", scenario: sc.name, result: r });
  return r;
}

export function exitCodeOf(report: RunReport): number {
  const verdicts = report.scenarios.flatMap((s) => s.variants.map((v) => v.verdict));
  return verdicts.every((v) => v === "pass" || v === "skip") ? 0 : 1;
}
