import type { Command } from "commander";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { dirname, resolve } from "node:path";
import { expandPaths, loadAll } from "../run/run.js";
import { CATALOG_DIR } from "../scenario/catalog.js";
import { VERSION } from "../util/project.js";

/** Where the scenarios shown live: their directories, the packaged catalog said as such. */
function whereFrom(files: string[]): string {
  const dirs = [...new Set(files.map((f) => dirname(f)))];
  return dirs
    .map((d) => (resolve(d) === CATALOG_DIR ? `${d} (the catalog tcprepro ${VERSION} ships)` : d))
    .join(", ");
}

export function registerList(program: Command): void {
  program
    .command("list")
    .description("the catalog: each scenario's summary, variants and what it needs")
    .argument("[paths...]", "scenario files, directories or catalog names (default: the catalog)")
    .option("--json", "print as JSON", false)
    .action((paths: string[], opts: { json: boolean }) => {
      const files = expandPaths(paths);
      const loaded = loadAll(files, hostKernelFacts);
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
      process.stdout.write(`${rows.length} scenarios from ${whereFrom(files)}\n\n`);
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
