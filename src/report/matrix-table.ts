/**
 * A kernel matrix on the terminal: one table of scenario/variant × kernel (the verdict, and the
 * cause or reason where the kernels disagree), then what differs between the first kernel and
 * each other one, by compare's own rules.
 */
import type { RunReport, VariantResult } from "../verdict/result.js";
import { formatComparison } from "./compare-table.js";
import { diffKernels, kernelFactLines } from "./kernel-diff.js";

const VERDICT = { pass: "PASS", fail: "FAIL", skip: "SKIP", error: "ERROR" } as const;

const causeOf = (v: VariantResult) =>
  v.verdict === "pass" || v.verdict === "fail"
    ? (v.causes[0]?.cause ?? "no cause")
    : v.reason.slice(0, 60);

export function formatMatrix(report: RunReport): string {
  const kernels = Object.keys(report.kernels ?? {});
  const rows: string[][] = [["scenario/variant", ...kernels]];
  for (const sc of report.scenarios) {
    const names = [...new Set(sc.variants.map((v) => v.variant))];
    for (const name of names) {
      const cells = kernels.map((k) =>
        sc.variants.find((v) => v.variant === name && v.kernel === k),
      );
      const present = cells.filter((c): c is VariantResult => c !== undefined);
      const agree = new Set(present.map((c) => `${c.verdict} ${causeOf(c)}`)).size <= 1;
      rows.push([
        `${sc.name}/${name}`,
        ...cells.map((c) =>
          !c ? "—" : agree ? VERDICT[c.verdict] : `${VERDICT[c.verdict]} (${causeOf(c)})`,
        ),
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const releases = kernels
    .map((k) => `${k} = ${report.kernels![k]!.release} (${report.kernels![k]!.runtime})`)
    .join("; ");
  return [line(rows[0]!), ...rows.slice(1).map(line), "", `kernels: ${releases}`, ""].join("\n");
}

/**
 * What differs between the first kernel and each of the others: behaviour first (compare's
 * rules, over counters both kernels have), then the kernels themselves (kernel-diff.ts).
 */
export function formatKernelDifferences(report: RunReport): string {
  const [first, ...others] = Object.keys(report.kernels ?? {});
  if (!first) return "";
  return others
    .map((k) => {
      const d = diffKernels(report, first, k);
      const facts = kernelFactLines(d);
      return [
        `── what differs between kernel ${first} (${d.releases.a}) and kernel ${k} (${d.releases.b})`,
        formatComparison(d.behaviour).trimEnd(),
        ...(facts.length > 0
          ? ["", `the kernels themselves (${first} vs ${k}):`, ...facts.map((l) => `  ${l}`)]
          : []),
        "",
      ].join("\n");
    })
    .join("\n");
}
