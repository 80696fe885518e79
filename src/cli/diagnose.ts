import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { diagnoseDumps, formatDiagnosis } from "../diagnosis/index.js";
import { UsageError } from "../util/errors.js";

function read(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

export function registerDiagnose(program: Command): void {
  program
    .command("diagnose")
    .description(
      "name causes from two counter dumps of any host (nstat -az, or cat /proc/net/netstat /proc/net/snmp)",
    )
    .requiredOption("--before <file>", "counters before")
    .requiredOption("--after <file>", "counters after")
    .option("--json", "print the diagnosis as JSON", false)
    .action((opts: { before: string; after: string; json: boolean }) => {
      const d = diagnoseDumps(read("--before", opts.before), read("--after", opts.after));
      process.stdout.write(
        opts.json ? JSON.stringify(d, null, 2) + "\n" : formatDiagnosis(d) + "\n",
      );
    });
}
