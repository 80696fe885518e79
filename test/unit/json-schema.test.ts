import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scenarioJsonSchema } from "../../src/scenario/json-schema.js";

describe("the published JSON Schema", () => {
  it("is what the zod schema generates (run `tcprepro schema --write` when this fails)", () => {
    const committed = readFileSync(
      new URL("../../schema/scenario.schema.json", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(scenarioJsonSchema());
  });

  it("documents keys for editors", () => {
    const schema = JSON.parse(scenarioJsonSchema()) as {
      properties: Record<string, { description?: string }>;
    };
    expect(schema.properties.summary!.description).toMatch(/newcomer/);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["nodes", "traffic", "faults", "expect", "variants"]),
    );
  });
});
