import type { Command } from "commander";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { expandPaths, loadAll } from "../run/run.js";
import { explainScenario, isolationText } from "../scenario/explain.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check scenario files without running anything")
    .argument("[paths...]", "scenario files, directories or catalog names (default: the catalog)")
    .option(
      "--explain",
      "also print what each variant would execute, per node (images, builds, packages, commands, iptables argv), and how each runtime isolates it",
      false,
    )
    .action((paths: string[], opts: { explain: boolean }) => {
      const loaded = loadAll(expandPaths(paths), hostKernelFacts);
      if (opts.explain) process.stdout.write(isolationText());
      for (const s of loaded) {
        process.stdout.write(
          `ok  ${s.file}: ${s.name} (${s.variants.map((v) => v.name).join(", ")})\n`,
        );
        if (opts.explain) process.stdout.write(explainScenario(s));
      }
    });
}
