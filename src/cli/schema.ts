import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { PROJECT_ROOT } from "../util/project.js";
import { SCHEMA_PATH, scenarioJsonSchema } from "../scenario/json-schema.js";

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description(`print the scenario JSON Schema (--write: update ${SCHEMA_PATH})`)
    .option("--write", "write it to the repository's schema file", false)
    .action((opts: { write: boolean }) => {
      const text = scenarioJsonSchema();
      if (opts.write) writeFileSync(join(PROJECT_ROOT, SCHEMA_PATH), text);
      else process.stdout.write(text);
    });
}
