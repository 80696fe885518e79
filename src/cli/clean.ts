import type { Command } from "commander";
import { removeOrphanTraceInstances } from "../evidence/drop-reasons.js";
import { openRuntime } from "./engine.js";

export function registerClean(program: Command): void {
  program
    .command("clean")
    .description(
      "remove containers, networks and trace instances left by runs whose process is gone (labs stay)",
    )
    .option("--all", "remove those of every run, running ones and labs included", false)
    .action(async (opts: { all: boolean }) => {
      const runtime = await openRuntime({});
      const r = await runtime.clean({ all: opts.all });
      const traces = removeOrphanTraceInstances(opts.all);
      process.stdout.write(
        `removed ${r.containers} container(s), ${r.networks} network(s) and ${traces} trace instance(s)\n`,
      );
    });
}
