import type { Command } from "commander";
import { compareReports } from "../report/compare.js";
import { formatComparison } from "../report/compare-table.js";
import { diffKernels, kernelFactLines } from "../report/kernel-diff.js";
import { readReport } from "../report/report-file.js";
import { kernelReport } from "../report/merge.js";
import { UsageError } from "../util/errors.js";
import type { RunReport } from "../verdict/result.js";

/** Two reports, or two kernels of one matrix report. */
function comparedSides(
  a: string,
  b: string | undefined,
  kernels: string | undefined,
): { a: RunReport; b: RunReport; labels: { a: string; b: string } } {
  if (kernels === undefined) {
    if (b === undefined)
      throw new UsageError("compare: name two reports, or one with --kernels k1,k2");
    return { a: readReport(a), b: readReport(b), labels: { a, b } };
  }
  const names = kernels.split(",").map((k) => k.trim());
  if (names.length !== 2 || b !== undefined)
    throw new UsageError(
      "--kernels takes two kernels of one report: compare m.json --kernels 6.1,7.2",
    );
  const report = readReport(a);
  return {
    a: kernelReport(report, names[0]!),
    b: kernelReport(report, names[1]!),
    labels: { a: `${a} kernel ${names[0]}`, b: `${a} kernel ${names[1]}` },
  };
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description(
      "what changed between two JSON reports (two kernels, two sysctl sets): verdicts, causes, outcomes, counters",
    )
    .argument("<a>", "report A (the reference), written by run --json")
    .argument("[b]", "report B, compared against A (omit with --kernels)")
    .option("--json", "print the comparison as JSON", false)
    .option("--kernels <k1,k2>", "compare two kernels of one matrix report (run --kernel)")
    .action((a: string, b: string | undefined, opts: { json: boolean; kernels?: string }) => {
      // Both files are read before anything is printed: a bad one is exit 2 with nothing else.
      const sides = comparedSides(a, b, opts.kernels);
      if (opts.kernels !== undefined) {
        // Two kernels of one matrix: behaviour, then the kernels themselves (absent counters).
        const [ka, kb] = opts.kernels.split(",").map((k) => k.trim()) as [string, string];
        const d = diffKernels(readReport(a), ka, kb);
        const facts = kernelFactLines(d);
        process.stdout.write(
          opts.json
            ? JSON.stringify(d, null, 2) + "\n"
            : formatComparison(d.behaviour) +
                (facts.length > 0
                  ? `\nthe kernels themselves (${ka} vs ${kb}):\n${facts.map((l) => `  ${l}`).join("\n")}\n`
                  : ""),
        );
        process.exitCode = 0;
        return;
      }
      const comparison = compareReports(sides.a, sides.b, sides.labels);
      process.stdout.write(
        opts.json ? JSON.stringify(comparison, null, 2) + "\n" : formatComparison(comparison),
      );
      // A comparison is a report, not a verdict: differences are not a failure.
      process.exitCode = 0;
    });
}
