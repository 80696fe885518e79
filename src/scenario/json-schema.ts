/** The published JSON Schema, derived from the zod schema (never edited by hand). */
import { z } from "zod";
import { ScenarioSchema } from "./schema.js";

export const SCHEMA_PATH = "schema/scenario.schema.json";

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(ScenarioSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return (
    JSON.stringify(
      {
        ...schema,
        $id: "https://tcprepro.dev/schema/scenario.schema.json",
        title: "tcprepro scenario",
      },
      null,
      2,
    ) + "\n"
  );
}
