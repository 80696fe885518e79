/**
 * The engine: what `tcprepro run` and `run()` both do. It checks every input, opens the targets
 * (a runtime; a runtime on each of several kernels; a user's kernel image), runs the scenarios
 * on each, and builds one report. A plain run is a matrix of one target whose report is that
 * target's; a run that names kernels gets the joined report whose every variant names its
 * kernel. Reporters (console, JSON, JUnit, HTML) are the caller's business.
 */
import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import type { EventSink, RunEvent } from "../report/events.js";
import { kernelFactsOf } from "../report/kernel-facts.js";
import { joinReports } from "../report/merge.js";
import { inShard, parseShard, type Shard } from "./shard.js";
import { runAll, type Parallel } from "../run/run.js";
import { emptyResult } from "../run/run-variant.js";
import type { KernelInventory, Runtime } from "../runtime/runtime.js";
import type { OpenOptions } from "../runtime/registry.js";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import type { LoadedScenario } from "../scenario/load.js";
import { anyKernel, type KernelFacts } from "../scenario/semantics.js";
import { withSetVariant, type SetFlag } from "../scenario/set-flag.js";
import { withFamily, type IpFamily } from "../scenario/family.js";
import { parseSweep, sweepSummaries, withSweepVariants, type Sweep } from "../scenario/sweep.js";
import { exitCodeFor, UsageError } from "../util/errors.js";
import { VERSION } from "../util/project.js";
import type { RunReport, VariantResult } from "../verdict/result.js";
import { loadSources, type ScenarioSource } from "./load.js";
import {
  openTarget,
  targetSpecs,
  type Target,
  type TargetRequest,
  type TargetSpec,
} from "./targets.js";

export interface EngineOptions extends TargetRequest, Omit<OpenOptions, "kernel"> {
  /** Run only this variant of each scenario. */
  variant?: string;
  /** One more variant per scenario with these changes (`--set path=value`), expected healthy. */
  set?: SetFlag[];
  /**
   * One more variant per value (`--sweep path=v1,v2,…`, or its parsed form), each patched as
   * `set` is; the report then carries `sweeps`: the failure against the value, and the smallest
   * value that made it go away.
   */
  sweep?: string | Sweep;
  /**
   * Variants run at once, per target: a number (1: one at a time), or `auto`: packed by what
   * each costs (a flood or a burst of thousands of connections weighs more than a timer wait)
   * on the target's CPUs, up to what its runtime takes; the longest (by earlier runs) first.
   * @default "auto"
   */
  parallel?: Parallel;
  /**
   * Runs of each variant; a verdict stands only if all agree.
   * @default 1
   */
  repeat?: number;
  /** Capture every node's packets (nodes with `capture: true` always are). */
  capture?: boolean;
  /**
   * Where captures are kept.
   * @default "captures"
   */
  capturesDir?: string;
  /**
   * Scenarios that pin no address family run over this one (`run --family ipv6`); one that
   * cannot run over it SKIPs with the reason.
   * @default "ipv4"
   */
  family?: IpFamily;
  /** Only the i-th of n stable parts of (kernel, scenario, variant): `"2/4"`. */
  shard?: string | Shard;
  /** Every event of the run (progress, attempts, faults, verdicts), as the CLI shows them. */
  onEvent?: (event: RunEvent) => void;
}

/**
 * Loads the scenarios against `facts`, with the `--set` variant: everything about the input is
 * checked by this, before and after the targets are opened.
 */
export function loadForRun(
  sources: ScenarioSource[],
  set: readonly SetFlag[],
  facts: KernelFacts,
  sweep?: Sweep,
  family?: IpFamily,
): LoadedScenario[] {
  return loadSources(sources, { kernel: facts }).map((s) =>
    inFamily(withSweepVariants(withSetVariant(s, set, facts), sweep, facts), family),
  );
}

/** Every variant of a loaded scenario over `family` (each unless it pins one). */
export function inFamily(loaded: LoadedScenario, family: IpFamily | undefined): LoadedScenario {
  if (family === undefined || family === "ipv4") return loaded;
  return {
    ...loaded,
    variants: loaded.variants.map((v) => ({ ...v, scenario: withFamily(v.scenario, family) })),
  };
}

export async function runEngine(
  sources: ScenarioSource[],
  o: EngineOptions = {},
): Promise<RunReport> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const startedAt = new Date();
  const t0 = performance.now();
  // Everything is checked before a kernel is fetched, a VM booted or an engine asked.
  const { specs, matrix } = targetSpecs(o);
  const shard = typeof o.shard === "string" ? parseShard(o.shard) : o.shard;
  const facts = new KernelFactsOfRun(specs);
  const sweep = typeof o.sweep === "string" ? parseSweep(o.sweep) : o.sweep;
  const first = loadForRun(sources, o.set ?? [], facts, sweep, o.family);
  if (o.variant && !first.some((s) => s.variants.some((v) => v.name === o.variant)))
    throw new UsageError(`no scenario has a variant named "${o.variant}"`);
  const multi = matrix || shard !== undefined;
  const run: EngineRun = { sources, o, facts, first, shard, multi, emit, sweep, cores: 1 };
  // Targets at once: up to two per core (a VM's catalog keeps its vCPU ~40 % busy); each counts
  // on its share of the cores, which sizes a VM's vCPUs and its variants side by side.
  const cores = Math.max(1, availableParallelism());
  const atOnce = multi ? Math.min(specs.length, 2 * cores) : 1;
  run.cores = cores / atOnce;
  const limit = pLimit(atOnce);
  // Every target settles (its VM powered off) before a failure of one is thrown.
  const settled = await Promise.allSettled(specs.map((spec) => limit(() => runTarget(run, spec))));
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const reports = settled.map((r) => (r as PromiseFulfilledResult<RunReport | undefined>).value);
  const labelled = reports.flatMap((r, i) => (r ? [{ label: specs[i]!.label, report: r }] : []));
  const report = multi
    ? {
        ...joinReports(labelled),
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(performance.now() - t0),
      }
    : reports[0]!;
  return sweep ? { ...report, sweeps: sweepSummaries(report, sweep) } : report;
}

/** What every target of one engine run shares. */
interface EngineRun {
  sources: ScenarioSource[];
  o: EngineOptions;
  facts: KernelFactsOfRun;
  /** The scenarios as loaded before any target was opened (for a target that fails). */
  first: LoadedScenario[];
  shard: Shard | undefined;
  /** Several targets, or a shard: events and the report name each target. */
  multi: boolean;
  emit: EventSink;
  sweep: Sweep | undefined;
  /** The cores each target counts on (OpenOptions.cores). */
  cores: number;
}

/** One target: opened, prepared, its kernel's facts known, the scenarios run, closed. */
async function runTarget(run: EngineRun, spec: TargetSpec): Promise<RunReport | undefined> {
  const { o, facts } = run;
  const select = (sc: string, v: string) =>
    (!o.variant || v === o.variant) && inShard(run.shard, spec.label, sc, v);
  // Nothing of this kernel in this shard: no boot.
  if (!run.first.some((s) => s.variants.some((v) => select(s.name, v.name)))) return undefined;
  const emit = run.multi ? tag(run.emit, spec.label) : run.emit;
  const say = (message: string) => emit({ kind: "prepare", message });
  let target: Target | undefined;
  try {
    target = await openTarget(spec, { ...o, cores: run.cores }, say);
    await target.runtime.prepare(say);
    const inventory = await target.runtime.inventory();
    facts.known(spec.label, inventory);
    const report = await runAll(loadForRun(run.sources, o.set ?? [], facts, run.sweep, o.family), {
      runtime: target.runtime,
      emit,
      variant: o.variant,
      select,
      parallel: o.parallel,
      repeat: o.repeat,
      captureAll: o.capture,
      capturesDir: o.capturesDir ?? "captures",
    });
    if (!run.multi) return report;
    // For the kernel diff: what this kernel has, so a counter it lacks is absent, not 0.
    const k = { release: report.kernel, runtime: report.runtime, facts: kernelFactsOf(inventory) };
    return { ...report, kernels: { [spec.label]: k } };
  } catch (err) {
    // Bad input, a machine problem (no engine, no QEMU, a kernel that cannot be fetched), or a
    // plain run's one runtime failing: the run fails with what to do (exit 2).
    if (!run.multi || exitCodeFor(err) === 2) throw err;
    return failedTarget(run.first, spec, target?.runtime, select, err as Error);
  } finally {
    if (target?.owned) await target.runtime.close().catch(() => undefined);
  }
}

/**
 * The kernels of a run, for validation: a sysctl is a typo only if no kernel of the run has it.
 * A VM's kernel is known once it has booted (its inventory, in memory); until then nothing is
 * rejected for it, and its run SKIPs what it lacks.
 */
class KernelFactsOfRun implements KernelFacts {
  private readonly kernels = new Map<string, KernelFacts | undefined>();
  constructor(specs: TargetSpec[]) {
    for (const s of specs) this.kernels.set(s.label, s.kernel ? undefined : hostKernelFacts);
  }
  known(label: string, inventory: KernelInventory): void {
    this.kernels.set(label, inventory);
  }
  sysctlExists = (name: string): boolean =>
    [...this.kernels.values()].some((k) => (k ?? anyKernel).sysctlExists(name));
}

/** Events of one target, tagged with its label: `scenario@6.1`, `[6.1] message`. */
function tag(emit: EventSink, label: string): EventSink {
  return (e: RunEvent) => {
    if ("scenario" in e) emit({ ...e, scenario: `${e.scenario}@${label}` } as RunEvent);
    else emit({ ...e, message: `[${label}] ${e.message}` });
  };
}

/** A target that could not be opened or booted: each of its variants is an error saying so. */
function failedTarget(
  scenarios: LoadedScenario[],
  spec: TargetSpec,
  runtime: Runtime | undefined,
  select: (sc: string, v: string) => boolean,
  err: Error,
): RunReport {
  const result = (variant: string): VariantResult => ({
    ...emptyResult(variant),
    verdict: "error",
    reason: `kernel ${spec.label}: ${err.message}`,
    durationMs: 0,
  });
  return {
    tool: { name: "tcprepro", version: VERSION },
    kernel: spec.label,
    runtime: runtime?.name ?? "not opened",
    startedAt: new Date().toISOString(),
    durationMs: 0,
    scenarios: scenarios
      .map((s) => ({
        name: s.name,
        file: s.file,
        summary: s.summary,
        variants: s.variants.filter((v) => select(s.name, v.name)).map((v) => result(v.name)),
      }))
      .filter((s) => s.variants.length > 0),
  };
}
