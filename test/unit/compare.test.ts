import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compareReports, counterDiffers } from "../../src/report/compare.js";
import { formatComparison } from "../../src/report/compare-table.js";
import { parseReport } from "../../src/report/report-file.js";
import { UsageError } from "../../src/util/errors.js";
import type { RunReport } from "../../src/verdict/result.js";

// Two real runs of scenarios/accept-queue-overflow.yaml; B with net.core.somaxconn: 4 on the
// server (test/fixtures/reports/RECORDED.txt).
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const A_FILE = "test/fixtures/reports/accept-queue.json";
const B_FILE = "test/fixtures/reports/accept-queue-somaxconn4.json";
const load = (file: string): RunReport => JSON.parse(readFileSync(join(ROOT, file), "utf8"));
const a = load(A_FILE);
const b = load(B_FILE);

describe("counterDiffers: a difference, not noise", () => {
  it.each([
    [51, 53, false], // within noise
    [0, 1, true], // started moving
    [190, 0, true], // stopped moving
    [40, 190, true],
    [1000, 1012, false], // > 10 apart but only 1.2%
    [10, 20, false], // 2×, but only 10 apart (the rule says more than 10)
    [10, 21, true],
    [100, 149, false], // 49 apart but under 1.5×
    [100, 151, true],
    [-20, 20, true], // a gauge that went the other way
    [-3, 3, false],
    [7, 7, false],
  ])("%d vs %d → %s", (x, y, expected) => {
    expect(counterDiffers(x, y)).toBe(expected);
    expect(counterDiffers(y, x)).toBe(expected);
  });

  it("takes another rule", () => {
    expect(counterDiffers(51, 53, { minAbsolute: 1, minRatio: 1 })).toBe(true);
  });
});

describe("compare two real runs whose sysctls differ", () => {
  const c = compareReports(a, b, { a: A_FILE, b: B_FILE });
  const variant = (name: string) => c.variants.find((v) => v.variant === name)!;

  it("matches both variants and finds both changed", () => {
    expect(c.variants.map((v) => `${v.scenario}/${v.variant}`)).toEqual([
      "accept-queue-overflow/baseline",
      "accept-queue-overflow/mitigated",
    ]);
    expect(c.summary).toEqual({ compared: 2, changed: 2, onlyInA: 0, onlyInB: 0 });
  });

  it("the mitigation stops working: verdict, cause, ListenOverflows, connected and the queue limit", () => {
    const m = variant("mitigated");
    expect(m.verdict).toEqual({ a: "pass", b: "fail", changed: true });
    expect(m.causes).toEqual({ a: ["none"], b: ["accept-queue-overflow"], changed: true });
    expect(m.counters).toContainEqual({
      node: "server",
      counter: "TcpExtListenOverflows",
      notable: true,
      a: 0,
      b: 190,
    });
    expect(m.counters[0]!.notable).toBe(true); // the notable counters come first
    expect(m.outcomes).toContainEqual({ outcome: "connected", a: 100, b: 5 });
    expect(m.listen).toContainEqual({ node: "server", port: 8080, field: "sendQ", a: 1024, b: 4 });
    expect(m.expectations.map((x) => x.path)).toContain("clients.connected");
  });

  it("the baseline: same cause, a smaller queue, fewer connected; per-node noise stays out", () => {
    const base = variant("baseline");
    expect(base.causes.changed).toBe(false);
    expect(base.outcomes).toEqual([
      { outcome: "connected", a: 9, b: 5 },
      { outcome: "timeout", a: 91, b: 95 },
    ]);
    expect(base.listen).toContainEqual({ node: "server", port: 8080, field: "sendQ", a: 8, b: 4 });
    // 182 vs 190 overflows: the same failure, not a change.
    expect(base.counters.find((x) => x.counter === "TcpExtListenOverflows")).toBeUndefined();
  });

  it("prints a table with A and B side by side and the rule", () => {
    const text = formatComparison(c);
    expect(text).toContain(`A  ${A_FILE}  (kernel 6.18.44-fc-v669`);
    expect(text).toMatch(/accept-queue-overflow\/mitigated: differs\n/);
    expect(text).toMatch(/ verdict +PASS +FAIL +changed\n/);
    expect(text).toMatch(/ counters client.1 TcpExtTCPSynRetrans +0 +45 +\+45\n/);
    expect(text).toMatch(/ {10}server TcpExtListenOverflows +0 +190 +\+190\n/);
    expect(text).toMatch(/clients connected +100 +5 +-95\n/);
    expect(text).toMatch(/listen server:8080 sendQ +1024 +4 +-1020\n/);
    expect(text).toContain("2 of 2 variants differ; 2 in verdict or cause.");
    expect(text).toContain("differ by more than 10 and one is more than 1.5× the other");
  });

  it("finds nothing between a report and itself", () => {
    const same = compareReports(a, a);
    expect(same.summary.changed).toBe(0);
    expect(formatComparison(same)).toContain(
      "accept-queue-overflow/baseline: no differences (PASS in both",
    );
  });

  it("names scenarios and variants that are in one report only", () => {
    const b2: RunReport = structuredClone(b);
    b2.scenarios[0]!.variants.pop(); // mitigated only in A
    b2.scenarios.push({ ...structuredClone(b.scenarios[0]!), name: "syn-flood" }); // a whole scenario only in B
    const c2 = compareReports(a, b2);
    expect(c2.onlyInA).toEqual([{ scenario: "accept-queue-overflow", variant: "mitigated" }]);
    expect(c2.onlyInB).toEqual([{ scenario: "syn-flood" }]);
    expect(c2.summary).toMatchObject({ compared: 1, onlyInA: 1, onlyInB: 1 });
    const text = formatComparison(c2);
    expect(text).toContain("only in A:\n  accept-queue-overflow/mitigated");
    expect(text).toContain("only in B:\n  syn-flood (every variant)");
  });
});

describe("reading reports", () => {
  const bad = (text: string) => {
    try {
      parseReport(text, "x.json");
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error("accepted");
  };

  it("refuses what is not a report, naming the file and what is wrong", () => {
    expect(bad("{")).toMatch(/^x.json: not valid JSON/);
    expect(bad('{"name": "tcprepro"}')).toMatch(/^x.json: not a tcprepro report/);
    const broken = structuredClone(a) as unknown as {
      scenarios: { variants: Record<string, unknown>[] }[];
    };
    broken.scenarios[0]!.variants[1]!.verdict = "maybe";
    expect(bad(JSON.stringify(broken))).toContain(
      "scenarios[0].variants[1].verdict is not pass, fail, skip or error",
    );
    const counters = structuredClone(a) as unknown as {
      scenarios: { variants: { nodes: Record<string, { counters: Record<string, unknown> }> }[] }[];
    };
    counters.scenarios[0]!.variants[0]!.nodes.server!.counters.TcpExtListenOverflows = "many";
    expect(bad(JSON.stringify(counters))).toContain(
      "nodes.server.counters.TcpExtListenOverflows is not a number",
    );
  });

  it("accepts a real report", () => {
    expect(parseReport(readFileSync(join(ROOT, A_FILE), "utf8"), A_FILE).scenarios).toHaveLength(1);
  });
});

describe("tcprepro compare (the command; no engine involved)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tcprepro-compare-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["bin/tcprepro.js", "compare", ...args], {
      cwd: ROOT,
      encoding: "utf8",
    });

  it("exits 0 with differences (a report, not a verdict), and prints JSON with --json", () => {
    const r = run(A_FILE, B_FILE, "--json");
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.summary.changed).toBe(2);
    expect(json.a.label).toBe(A_FILE);
  });

  it("exits 2 for a missing or invalid file, saying which", () => {
    const missing = run(A_FILE, join(dir, "nope.json"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read \(ENOENT\)/);
    const notReport = join(dir, "package.json");
    writeFileSync(notReport, '{"name": "x"}');
    const invalid = run(notReport, A_FILE);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain("not a tcprepro report");
    expect(invalid.stdout).toBe("");
  });
});
