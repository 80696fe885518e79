import type { Command } from "commander";
import { openRuntime } from "./engine.js";

export function registerClean(program: Command): void {
  program
    .command("clean")
    .description("remove containers and networks left by runs whose process is gone")
    .option("--all", "remove those of every run, running ones included", false)
    .action(async (opts: { all: boolean }) => {
      const runtime = await openRuntime({});
      const r = await runtime.clean({ all: opts.all });
      process.stdout.write(`removed ${r.containers} container(s) and ${r.networks} network(s)\n`);
    });
}
