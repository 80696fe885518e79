import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { takeSnapshot } from "../snapshot/take.js";
import { UsageError } from "../util/errors.js";

export function registerSnapshot(program: Command): void {
  program
    .command("snapshot")
    .description(
      "one JSON file of this host's TCP state: kernel, TCP sysctls, every counter, listeners with their queues, sockets per state (docs/snapshot.md)",
    )
    .option("-o, --output <file>", "write to this file instead of stdout")
    .option(
      "--proc <dir>",
      "read this /proc instead of the live one (ss is then not asked for the listeners' Send-Q)",
    )
    .option(
      "--kernel-log <file>",
      "a saved kernel log (dmesg output) to count cause lines in, instead of running dmesg",
    )
    .action((opts: { output?: string; proc?: string; kernelLog?: string }) => {
      let kernelLogText: string | undefined;
      if (opts.kernelLog !== undefined) {
        try {
          kernelLogText = readFileSync(opts.kernelLog, "utf8");
        } catch (err) {
          throw new UsageError(`--kernel-log ${opts.kernelLog}: ${(err as Error).message}`);
        }
      }
      const snapshot = takeSnapshot({ procRoot: opts.proc, kernelLogText });
      const text = JSON.stringify(snapshot, null, 2) + "\n";
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
      for (const note of snapshot.source.notes) process.stderr.write(`note: ${note}\n`);
    });
}
