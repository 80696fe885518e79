import type { Command } from "commander";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { expandPaths, loadAll } from "../run/run.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check scenario files without running anything")
    .argument("[paths...]", "scenario files, directories or catalog names (default: the catalog)")
    .action((paths: string[]) => {
      const loaded = loadAll(expandPaths(paths), hostKernelFacts);
      for (const s of loaded)
        process.stdout.write(
          `ok  ${s.file}: ${s.name} (${s.variants.map((v) => v.name).join(", ")})\n`,
        );
    });
}
