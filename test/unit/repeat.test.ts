import { describe, expect, it } from "vitest";
import { combineRepeats } from "../../src/verdict/repeat.js";
import type { VariantResult } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";
import { failureLines } from "../../src/report/failure-lines.js";
import { formatReport } from "../../src/report/console.js";

const run = (verdict: VariantResult["verdict"], reason: string = verdict): VariantResult =>
  variantResult({ verdict, reason });

describe("--repeat", () => {
  it("keeps a verdict all runs agree on, and says so", () => {
    const r = combineRepeats([run("pass"), run("pass"), run("pass")]);
    expect(r.verdict).toBe("pass");
    expect(r.repeat).toMatchObject({ runs: 3, agreed: 3, verdicts: { pass: 3 } });
    expect(r.repeat!.each.map((e) => e.verdict)).toEqual(["pass", "pass", "pass"]);
    expect(r.durationMs).toBe(3000);
  });

  it("fails a variant whose runs disagree, showing a disagreeing run", () => {
    const r = combineRepeats([
      run("pass"),
      run("fail", "clients.connected: expected == 30, got 28"),
      run("pass"),
    ]);
    expect(r.verdict).toBe("fail");
    expect(r.reason).toMatch(
      /flaky: 2 of 3 runs agreed \(pass ×2, fail ×1\); run 2 fail: .*got 28/,
    );
    expect(r.repeat!.agreed).toBe(2);
  });

  it("lists every run that did not pass with its failed expectations and causes", () => {
    const failing = variantResult({
      verdict: "fail",
      reason: "clients.connected: expected < 10, got 10",
      expectations: [
        { path: "cause", expected: "syn-queue-overflow", actual: "none", ok: false },
        {
          path: "clients.connected",
          expected: "< 10",
          actual: 10,
          ok: false,
          source: "scenarios/syn-flood.yaml:25",
        },
        { path: "counters.server.TcpExtSyncookiesSent", expected: "== 0", actual: 0, ok: true },
      ],
      causes: [{ cause: "none", node: "-", because: "nothing abnormal", numbers: {} }],
    });
    // The majority failed here: the passing run is the odd one, yet the failures are shown.
    const r = combineRepeats([failing, run("pass"), failing, failing]);
    expect(r.verdict).toBe("fail");
    expect(r.repeat!.each).toHaveLength(4);
    expect(r.repeat!.each[1]).toMatchObject({ run: 2, verdict: "pass", failed: [] });
    expect(r.repeat!.each[0]!.failed.map((e) => e.path)).toEqual(["cause", "clients.connected"]);
    const lines = failureLines(r);
    expect(lines).toContain("run 1 of 4: FAIL");
    expect(lines).toContain(
      "  ✗ clients.connected: expected < 10, actual 10  (scenarios/syn-flood.yaml:25)",
    );
    expect(lines).toContain("  · none at -: nothing abnormal");
    expect(lines.filter((l) => l.startsWith("run "))).toEqual([
      "run 1 of 4: FAIL",
      "run 3 of 4: FAIL",
      "run 4 of 4: FAIL",
    ]);
    const console = formatReport({
      tool: { name: "tcprepro", version: "0" },
      kernel: "6.18",
      runtime: "docker",
      startedAt: "",
      durationMs: 0,
      scenarios: [{ name: "syn-flood", file: "f", summary: "", variants: [r] }],
    });
    expect(console).toMatch(/runs agreed\s+3\/4/);
    expect(console).toContain("    run 3 of 4: FAIL\n      ✗ cause: expected syn-queue-overflow");
  });

  it("all runs skipped is a skip", () => {
    expect(combineRepeats([run("skip"), run("skip")]).verdict).toBe("skip");
  });
});
