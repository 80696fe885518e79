import type { Command } from "commander";
import { assess, formatDoctor } from "../doctor/assess.js";
import { probe } from "../doctor/probe.js";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "what this machine has of what tcprepro and the catalog need: engine, images, privileges, kernel, sysctls, counters, netem, tools",
    )
    .argument("[paths...]", "the catalog: scenario files or directories", ["scenarios"])
    .option("--base <image>", "base image the node image is built from (as run --base)")
    .option("--json", "print the checks as JSON", false)
    .action(async (paths: string[], opts: { base?: string; json: boolean }) => {
      const report = assess(await probe({ paths, base: opts.base }));
      process.stdout.write(
        opts.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report),
      );
      // Nothing is started or changed: exit 1 says "something is missing", not "something failed".
      process.exitCode = report.gaps === 0 ? 0 : 1;
    });
}
