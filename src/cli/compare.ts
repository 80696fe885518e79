import type { Command } from "commander";
import { compareReports } from "../report/compare.js";
import { formatComparison } from "../report/compare-table.js";
import { readReport } from "../report/report-file.js";

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description(
      "what changed between two JSON reports (two kernels, two sysctl sets): verdicts, causes, outcomes, counters",
    )
    .argument("<a>", "report A (the reference), written by run --json")
    .argument("<b>", "report B, compared against A")
    .option("--json", "print the comparison as JSON", false)
    .action((a: string, b: string, opts: { json: boolean }) => {
      // Both files are read before anything is printed: a bad one is exit 2 with nothing else.
      const reportA = readReport(a);
      const reportB = readReport(b);
      const comparison = compareReports(reportA, reportB, { a, b });
      process.stdout.write(
        opts.json ? JSON.stringify(comparison, null, 2) + "\n" : formatComparison(comparison),
      );
      // A comparison is a report, not a verdict: differences are not a failure.
      process.exitCode = 0;
    });
}
