/**
 * The kernel matrix: the same scenarios on several kernels — VMs booted on fetched kernels and
 * `host`, the runtime one would use today — in parallel up to the cores, joined into one report
 * whose every variant result names its kernel. `--shard i/n` keeps a stable subset of
 * (kernel, scenario, variant), so CI jobs can split a matrix and `tcprepro merge` join it again.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import type { EventSink, RunEvent } from "../report/events.js";
import type { Runtime } from "../runtime/runtime.js";
import type { LoadedScenario } from "../scenario/load.js";
import { UsageError } from "../util/errors.js";
import type { RunReport, ScenarioResult, VariantResult } from "../verdict/result.js";
import { runAll, type RunOptions } from "./run.js";
import { emptyResult } from "./run-variant.js";
import { kernelFactsOf } from "../report/kernel-facts.js";

export interface KernelTarget {
  /** `6.1`, `7.2`, `host`. */
  label: string;
  runtime: Runtime & { close?(): Promise<void> };
}

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new UsageError(`--shard: "${value}" is not i/n with 1 ≤ i ≤ n (e.g. 2/4)`);
  return { index, count };
}

/** Whether a (kernel, scenario, variant) belongs to the shard: a hash, stable across runs. */
export function inShard(
  shard: Shard | undefined,
  kernel: string,
  scenario: string,
  variant: string,
): boolean {
  if (!shard || shard.count === 1) return true;
  const h = createHash("sha256").update(`${kernel}\0${scenario}\0${variant}`).digest();
  return h.readUInt32BE(0) % shard.count === shard.index - 1;
}

/** Events of one kernel, tagged with it: `scenario@6.1`, `[6.1] message`. */
function tagged(emit: EventSink, label: string): EventSink {
  return (e: RunEvent) => {
    if ("scenario" in e) emit({ ...e, scenario: `${e.scenario}@${label}` } as RunEvent);
    else emit({ ...e, message: `[${label}] ${e.message}` });
  };
}

export type MatrixOptions = Omit<RunOptions, "runtime" | "kernel" | "select"> & {
  shard?: Shard;
};

export async function runMatrix(
  scenarios: LoadedScenario[],
  targets: KernelTarget[],
  opts: MatrixOptions,
): Promise<RunReport> {
  if (opts.variant && !scenarios.some((s) => s.variants.some((v) => v.name === opts.variant)))
    throw new UsageError(`no scenario has a variant named "${opts.variant}"`); // before any boot
  const t0 = performance.now();
  const startedAt = new Date();
  const wanted = (label: string, sc: string, v: string) =>
    (!opts.variant || v === opts.variant) && inShard(opts.shard, label, sc, v);
  const limit = pLimit(Math.max(1, availableParallelism()));
  const reports = await Promise.all(
    targets.map((t) =>
      limit(async (): Promise<RunReport | undefined> => {
        const select = (sc: string, v: string) => wanted(t.label, sc, v);
        if (!scenarios.some((s) => s.variants.some((v) => select(s.name, v.name))))
          return undefined; // nothing of this kernel in this shard: no boot
        const emit = tagged(opts.emit, t.label);
        try {
          await t.runtime.prepare((message) => emit({ kind: "prepare", message }));
          const report = await runAll(scenarios, { ...opts, emit, runtime: t.runtime, select });
          // For the kernel diff (#22): what this kernel has, so a counter it lacks is "absent".
          const facts = await t.runtime
            .inventory()
            .then(kernelFactsOf)
            .catch(() => undefined);
          const k = { release: report.kernel, runtime: report.runtime };
          return { ...report, kernels: { [t.label]: facts ? { ...k, facts } : k } };
        } catch (err) {
          if (err instanceof UsageError) throw err;
          return failedKernel(scenarios, t, select, err as Error);
        } finally {
          await t.runtime.close?.();
        }
      }),
    ),
  );
  const labelled = reports.flatMap((r, i) => (r ? [{ label: targets[i]!.label, report: r }] : []));
  return {
    ...joinReports(labelled),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
  };
}

/** A kernel that could not be booted: each of its variants is an error that says so. */
function failedKernel(
  scenarios: LoadedScenario[],
  t: KernelTarget,
  select: (sc: string, v: string) => boolean,
  err: Error,
): RunReport {
  const result = (variant: string): VariantResult => ({
    ...emptyResult(variant),
    verdict: "error",
    reason: `kernel ${t.label}: ${err.message}`,
    durationMs: 0,
  });
  return {
    tool: { name: "tcprepro", version: "0.1.0" },
    kernel: t.label,
    runtime: t.runtime.name,
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

/**
 * Per-kernel reports → one: scenarios in first-seen order, each variant result tagged with its
 * kernel, `kernels` naming each label's release and runtime. Also what `tcprepro merge` does
 * with shards (whose results already carry their kernel).
 */
export function joinReports(parts: Array<{ label?: string; report: RunReport }>): RunReport {
  const scenarios = new Map<string, ScenarioResult>();
  const kernels: NonNullable<RunReport["kernels"]> = {};
  for (const { label, report } of parts) {
    if (report.kernels) Object.assign(kernels, report.kernels);
    else kernels[label ?? report.kernel] = { release: report.kernel, runtime: report.runtime };
    for (const sc of report.scenarios) {
      const into = scenarios.get(sc.file) ?? { ...sc, variants: [] };
      scenarios.set(sc.file, into);
      for (const v of sc.variants)
        into.variants.push({ ...v, kernel: v.kernel ?? label ?? report.kernel });
    }
  }
  const order = Object.keys(kernels);
  for (const sc of scenarios.values())
    sc.variants.sort((a, b) => order.indexOf(a.kernel!) - order.indexOf(b.kernel!));
  const first = parts[0]?.report;
  return {
    tool: { name: "tcprepro", version: "0.1.0" },
    kernel: order.join(","),
    runtime: "matrix",
    startedAt: first?.startedAt ?? new Date().toISOString(),
    durationMs: Math.max(0, ...parts.map((p) => p.report.durationMs)),
    kernels,
    scenarios: [...scenarios.values()],
  };
}

/** The part of a matrix report that ran on one kernel, as a plain report (for compare). */
export function kernelReport(report: RunReport, label: string): RunReport {
  const k = report.kernels?.[label];
  if (!k)
    throw new UsageError(
      `the report has no kernel ${label}: it has ${Object.keys(report.kernels ?? {}).join(", ") || "none (not a matrix run)"}`,
    );
  return {
    ...report,
    kernel: k.release,
    runtime: k.runtime,
    kernels: undefined,
    scenarios: report.scenarios
      .map((s) => ({ ...s, variants: s.variants.filter((v) => v.kernel === label) }))
      .filter((s) => s.variants.length > 0),
  };
}
