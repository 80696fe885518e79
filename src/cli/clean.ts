import type { Command } from "commander";
import { removeOrphanTraceInstances } from "../evidence/drop-reasons.js";
import { RUNTIMES } from "../runtime/registry.js";

export function registerClean(program: Command): void {
  program
    .command("clean")
    .description(
      "remove containers, networks, VMs and trace instances left by runs whose process is gone (labs stay)",
    )
    .option("--all", "remove those of every run, running ones and labs included", false)
    .action(async (opts: { all: boolean }) => {
      // Every registered runtime: what a dead run left may be containers, namespaces or VMs.
      const parts: string[] = [];
      for (const entry of RUNTIMES) {
        const r = await entry.clean(opts.all);
        parts.push(entry.describeClean(r) + (r.note ? ` (${entry.name}: ${r.note})` : ""));
      }
      const traces = removeOrphanTraceInstances(opts.all);
      process.stdout.write(`removed ${parts.join(", ")} and ${traces} trace instance(s)\n`);
    });
}
