import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { composeFile } from "../run/compose.js";
import { loadAll } from "../run/run.js";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { UsageError } from "../util/errors.js";
import { resolveScenarioPath } from "../scenario/catalog.js";

export function registerCompose(program: Command): void {
  program
    .command("compose")
    .description("export a scenario's topology as a Compose file (to bring up with docker-compose)")
    .argument("<file>", "scenario file or catalog name")
    .option("--variant <name>", "export this variant's topology (default: the baseline)")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action((file: string, opts: { variant?: string; output?: string }) => {
      const [loaded] = loadAll([resolveScenarioPath(file)], hostKernelFacts);
      if (opts.variant && !loaded!.variants.some((v) => v.name === opts.variant))
        throw new UsageError(
          `${file} has no variant named "${opts.variant}" (it has ${loaded!.variants.map((v) => v.name).join(", ")})`,
        );
      const made = loaded!.variants.flatMap((v) =>
        Object.entries(v.scenario.nodes)
          .filter(([, n]) => n.build || n.packages || n.container)
          .map(([name]) => name),
      );
      if (made.length > 0)
        throw new UsageError(
          `compose cannot export node ${made[0]}: its image is made by tcprepro (build, packages) or it already exists (container); bring the topology up with \`tcprepro lab up ${file}\` instead`,
        );
      const { text } = composeFile(loaded!, opts.variant);
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
    });
}
