/**
 * action.yml, run as GitHub's runner would run it (test/integration/action-runner.ts) on this
 * machine: in a project that installed tcprepro (node_modules/.bin/tcprepro, no ./scenarios),
 * `tcprepro setup` and one shard of a catalog scenario named by name, on the real engine; then
 * the merge mode on its report. The `uses:` steps (actions/setup-node, actions/cache) are other
 * actions and are skipped: Node here is already the supported one the action asks for.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runAction } from "./action-runner.js";
import { ROOT } from "./helpers.js";

describe("action.yml", () => {
  let project: string;
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "tcprepro-action-project-"));
    mkdirSync(join(project, "node_modules/.bin"), { recursive: true });
    symlinkSync(join(ROOT, "bin/tcprepro.js"), join(project, "node_modules/.bin/tcprepro"));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it("asks for a Node the package supports", () => {
    const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as {
      inputs: Record<string, { default: string }>;
    };
    expect(Number(action.inputs["node-version"]!.default)).toBeGreaterThanOrEqual(24);
  });

  it("sets the machine up and runs one shard, leaving the reports as outputs", () => {
    const r = runAction(
      ROOT,
      {
        scenarios: "accept-queue-overflow",
        shard: "1/1",
        json: "report.json",
        junit: "junit.xml",
        html: "report.html",
      },
      { workspace: project },
    );
    const say = r.steps.map((s) => `${s.name}: ${s.status}\n${s.stdout}${s.stderr}`).join("\n");
    // setup-node always; the kernel cache only with kernels.
    expect(r.skipped).toEqual(["actions/setup-node@v4"]);
    expect(
      r.steps.map((s) => [s.name, s.status]),
      say,
    ).toEqual([
      ["find tcprepro", 0],
      ["tcprepro setup", 0],
      ["tcprepro run", 0],
    ]);
    expect(r.steps[0]!.stdout).toContain(join(project, "node_modules/.bin/tcprepro"));
    // This machine is set up: the second time is the idempotent one.
    expect(r.steps[1]!.stdout).toMatch(/^(nothing to do|done): /m);
    expect(r.outputs).toEqual({
      json: join(project, "report.json"),
      junit: join(project, "junit.xml"),
      html: join(project, "report.html"),
      "exit-code": "0",
    });
    for (const f of [r.outputs.json!, r.outputs.junit!, r.outputs.html!])
      expect(existsSync(f), f).toBe(true);
    const report = JSON.parse(readFileSync(r.outputs.json!, "utf8")) as {
      scenarios: Array<{ name: string; file: string; variants: Array<{ verdict: string }> }>;
    };
    expect(report.scenarios.map((s) => s.name)).toEqual(["accept-queue-overflow"]);
    // Named, not pathed: it came from the catalog the package ships.
    expect(report.scenarios[0]!.file).toBe(join(ROOT, "scenarios/accept-queue-overflow.yaml"));
    expect(report.scenarios[0]!.variants.map((v) => v.verdict)).toEqual(["pass", "pass"]);
    expect(readFileSync(r.outputs.junit!, "utf8")).toContain("<testsuite");
  });

  it("a failing run still sets the outputs, then fails the step with tcprepro's exit code", () => {
    const r = runAction(
      ROOT,
      { scenarios: "no-such-scenario", json: "bad.json" },
      { workspace: project },
    );
    const run = r.steps.at(-1)!;
    expect([run.name, run.status]).toEqual(["tcprepro run", 2]);
    expect(run.stderr).toContain("no-such-scenario: neither a file nor a scenario of the catalog");
    expect(r.outputs).toMatchObject({ json: "", "exit-code": "2" });
  });

  // Uses the report the test above wrote.
  it("merge mode: joins the shards' reports into json, without setting anything up", () => {
    const r = runAction(ROOT, { merge: "report*.json", json: "all.json" }, { workspace: project });
    expect(r.steps.map((s) => [s.name, s.status])).toEqual([
      ["find tcprepro", 0],
      ["tcprepro run", 0],
    ]);
    expect(r.outputs).toEqual({
      json: join(project, "all.json"),
      junit: "",
      html: "",
      "exit-code": "0",
    });
    expect(r.steps[1]!.stdout).toMatch(/all\.json: 2 variant results from 1 reports/);
  });
});
