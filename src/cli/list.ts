import type { Command } from "commander";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { expandPaths, loadAll } from "../run/run.js";

export function registerList(program: Command): void {
  program
    .command("list")
    .description("the catalog: each scenario's summary, variants and what it needs")
    .argument("[paths...]", "scenario files or directories", ["scenarios"])
    .option("--json", "print as JSON", false)
    .action((paths: string[], opts: { json: boolean }) => {
      const loaded = loadAll(expandPaths(paths), hostKernelFacts);
      const rows = loaded.map((s) => {
        const base = s.variants[0]!.scenario;
        const sysctls = [
          ...new Set(Object.values(base.nodes).flatMap((n) => Object.keys(n.sysctls))),
        ];
        return {
          name: s.name,
          file: s.file,
          summary: s.summary.trim(),
          symptom: s.symptom,
          cause: base.expect.cause ?? null,
          variants: s.variants.map((v) => v.name),
          requires: base.requires,
          sysctls,
        };
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
        return;
      }
      for (const r of rows) {
        const needs = [
          r.requires.kernel && `kernel ${r.requires.kernel}`,
          r.requires.ownKernel && "a runtime that owns the whole kernel",
          ...(r.requires.sysctls ?? []),
          ...(r.requires.counters ?? []),
        ].filter(Boolean);
        process.stdout.write(`${r.name}  (${r.file})\n`);
        process.stdout.write(`  ${r.summary.replace(/\s+/g, " ")}\n`);
        if (r.symptom) process.stdout.write(`  symptom: ${r.symptom}\n`);
        process.stdout.write(
          `  cause: ${[r.cause].flat().join(", ") || "-"}; variants: ${r.variants.join(", ")}\n`,
        );
        if (r.sysctls.length > 0) process.stdout.write(`  sets: ${r.sysctls.join(", ")}\n`);
        if (needs.length > 0) process.stdout.write(`  needs: ${needs.join(", ")}\n`);
        process.stdout.write("\n");
      }
    });
}
