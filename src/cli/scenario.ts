import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { loadScenario } from "../scenario/load.js";
import { newScenario } from "../scenario/new.js";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { readSnapshot } from "../snapshot/snapshot.js";
import { UsageError } from "../util/errors.js";

export function registerScenario(program: Command): void {
  const scenario = program.command("scenario").description("write scenario files");
  scenario
    .command("new")
    .description(
      "write a scenario reproducing a cause: the catalog's, or set to a snapshot's host (its sysctls, its listener's queue) with a mitigated variant",
    )
    .option("--from <snapshot>", "a snapshot (tcprepro snapshot) of the host to reproduce")
    .option("--cause <name>", "the cause to reproduce (default: the one the snapshot shows)")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action((opts: { from?: string; cause?: string; output?: string }) => {
      let snapshot;
      if (opts.from !== undefined) {
        let text: string;
        try {
          text = readFileSync(opts.from, "utf8");
        } catch (err) {
          throw new UsageError(`--from ${opts.from}: ${(err as Error).message}`);
        }
        snapshot = { value: readSnapshot(text, opts.from), text, file: opts.from };
      }
      const made = newScenario({ cause: opts.cause, snapshot });
      // What it writes must load: the same checks as `validate`, against this kernel.
      loadScenario(opts.output ?? "(scenario new)", hostKernelFacts, made.text);
      if (opts.output) writeFileSync(opts.output, made.text);
      else process.stdout.write(made.text);
      for (const n of made.notes) process.stderr.write(`${n}\n`);
    });
}
