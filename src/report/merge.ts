/**
 * The one merge of reports: per-kernel reports of a matrix run, and shards given to
 * `tcprepro merge`, are joined here; `kernelReport` takes one kernel's part back out.
 */
import { UsageError } from "../util/errors.js";
import { VERSION } from "../util/project.js";
import type { RunReport, ScenarioResult } from "../verdict/result.js";

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
    tool: { name: "tcprepro", version: VERSION },
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
