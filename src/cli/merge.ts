/** `tcprepro merge a.json b.json … -o all.json`: the shards of a matrix run, joined. */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { readReport } from "../report/report-file.js";
import { joinReports } from "../report/merge.js";
import { exitCodeOf } from "../run/run.js";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("join JSON reports (the shards of a --shard run) into one report")
    .argument("<reports...>", "reports written by run --json")
    .requiredOption("-o, --output <file>", "where to write the joined report")
    .action((files: string[], opts: { output: string }) => {
      // Every file is read (and checked) before anything is written.
      const reports = files.map(readReport);
      const joined = joinReports(reports.map((report) => ({ report })));
      writeFileSync(opts.output, JSON.stringify(joined, null, 2) + "\n");
      const n = joined.scenarios.reduce((t, s) => t + s.variants.length, 0);
      process.stdout.write(
        `${opts.output}: ${n} variant results from ${files.length} reports; kernels ${Object.keys(joined.kernels ?? {}).join(", ")}\n`,
      );
      // Like run: non-zero when a merged variant failed.
      process.exitCode = exitCodeOf(joined);
    });
}
