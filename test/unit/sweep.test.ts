/** --sweep: parsing, the variants it adds, and the threshold (a pure function). */
import { describe, expect, it } from "vitest";
import { formatSweeps, withSweepsHtml } from "../../src/report/sweep.js";
import { loadScenario } from "../../src/scenario/load.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";
import { parseSweep, sweepThreshold, withSweepVariants } from "../../src/scenario/sweep.js";
import { UsageError } from "../../src/util/errors.js";

const facts: KernelFacts = { sysctlExists: () => true };
const pts = (...p: [unknown, boolean][]) => p.map(([value, healthy]) => ({ value, healthy }));

describe("sweepThreshold", () => {
  it("the smallest value from which on every value ran healthy", () => {
    expect(sweepThreshold(pts([16, false], [64, false], [256, true], [1024, true]))).toBe(256);
  });
  it("orders numbers by value, whatever order they were given in", () => {
    expect(sweepThreshold(pts([1024, true], [16, false], [256, true], [64, false]))).toBe(256);
  });
  it("a healthy value below a failed one is luck, not a threshold", () => {
    expect(sweepThreshold(pts([16, true], [64, false], [256, true]))).toBe(256);
  });
  it("none healthy at the top: no threshold", () => {
    expect(sweepThreshold(pts([16, false], [64, true], [256, false]))).toBeUndefined();
  });
  it("port ranges order by their width", () => {
    const r = pts(["40000 40999", true], ["40000 40009", false], ["40000 40099", true]);
    expect(sweepThreshold(r)).toBe("40000 40099");
  });
});

describe("parseSweep and its variants", () => {
  it("reads each value as YAML", () => {
    expect(parseSweep("nodes.server.app.backlog=16, 64,256")).toMatchObject({
      path: "nodes.server.app.backlog",
      values: [16, 64, 256],
    });
  });
  it("refuses one value, an empty one, or no path", () => {
    for (const bad of ["nodes.server.app.backlog=16", "x=1,,2", "=1,2"])
      expect(() => parseSweep(bad), bad).toThrow(UsageError);
  });
  it("adds one variant per value, expected healthy, after the file's own", () => {
    const loaded = loadScenario("scenarios/accept-queue-overflow.yaml", facts);
    const swept = withSweepVariants(loaded, parseSweep("nodes.server.app.backlog=16,1024"), facts);
    const names = swept.variants.map((v) => v.name);
    expect(names).toEqual([
      "baseline",
      "mitigated",
      "sweep:server.app.backlog=16",
      "sweep:server.app.backlog=1024",
    ]);
    const v = swept.variants[3]!;
    expect(v.scenario.nodes["server"]!.app!.backlog).toBe(1024);
    expect(v.scenario.expect.cause).toBe("none");
  });
  it("a path the scenario lacks is a usage error naming --sweep", () => {
    const loaded = loadScenario("scenarios/accept-queue-overflow.yaml", facts);
    expect(() => withSweepVariants(loaded, parseSweep("nodes.web.app.backlog=1,2"), facts)).toThrow(
      /^--sweep .*has no node "web"/,
    );
  });
});

describe("the sweep's report section", () => {
  const summary = {
    scenario: "aq",
    path: "nodes.server.app.backlog",
    cause: "accept-queue-overflow",
    counter: "TcpExtListenOverflows",
    points: [
      {
        value: 16,
        variant: "s16",
        verdict: "fail",
        failed: 80,
        attempts: 100,
        counter: 160,
        healthy: false,
      },
      {
        value: 256,
        variant: "s256",
        verdict: "pass",
        failed: 0,
        attempts: 100,
        counter: 0,
        healthy: true,
      },
    ],
    threshold: 256,
  };
  it("console: a row per value and the threshold", () => {
    const t = formatSweeps([summary]);
    expect(t).toMatch(/16\s+FAIL\s+80\/100\s+█+\s+160/);
    expect(t).toMatch(/go away at this load: nodes\.server\.app\.backlog=256/);
  });
  it("HTML: a section with the plot before </body>", () => {
    const h = withSweepsHtml("<html><body><p>x</p></body></html>", [summary]);
    expect(h).toMatch(/<section id="sweep">.*<svg.*<\/section><\/body>/s);
  });
});
