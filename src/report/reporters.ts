/**
 * The reporters, one table: what a report becomes on the console and in each file format.
 * `tcprepro run` (plain or on several kernels) and `run()` callers use the same entries; a new
 * format is one module and one line here (its flag comes from the table).
 */
import { formatReport } from "./console.js";
import { htmlReport } from "./html.js";
import { junitXml } from "./junit.js";
import { formatSweeps, withSweepsHtml } from "./sweep.js";
import { formatKernelDifferences, formatMatrix } from "./matrix-table.js";
import { writeFileAtomic } from "../util/output.js";
import type { RunReport } from "../verdict/result.js";

export interface FileReporter {
  /** What the CLI's flag says after `--<name> <file>`. */
  describe: string;
  render(report: RunReport): string;
}

export const FILE_REPORTERS = {
  json: {
    describe: "write the JSON report to this file",
    render: (report) => JSON.stringify(report, null, 2) + "\n",
  },
  junit: {
    describe: "write JUnit XML (one testcase per variant) to this file",
    render: junitXml,
  },
  html: {
    describe: "write a self-contained HTML report (attempt plots, causes, tables) to this file",
    render: (report) => withSweepsHtml(htmlReport(report), report.sweeps ?? []),
  },
} satisfies Record<string, FileReporter>;

export type FileFormat = keyof typeof FILE_REPORTERS;
export const FILE_FORMATS = Object.keys(FILE_REPORTERS) as FileFormat[];

/** The console's summary: the verdict table, or per kernel with their differences. */
export function consoleReport(report: RunReport): string {
  const sweeps = formatSweeps(report.sweeps ?? []);
  if (!report.kernels) return formatReport(report) + sweeps;
  const several = Object.keys(report.kernels).length > 1;
  return formatMatrix(report) + (several ? "\n" + formatKernelDifferences(report) : "") + sweeps;
}

/** Writes the report in each format given a file (atomically: a reader never sees half). */
export function writeReports(
  report: RunReport,
  files: Partial<Record<FileFormat, string | undefined>>,
): void {
  for (const format of FILE_FORMATS) {
    const file = files[format];
    if (file) writeFileAtomic(file, FILE_REPORTERS[format].render(report));
  }
}
