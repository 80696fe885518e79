import { describe, expect, it } from "vitest";
import { combineRepeats } from "../../src/verdict/repeat.js";
import type { VariantResult } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";

const run = (verdict: VariantResult["verdict"], reason: string = verdict): VariantResult =>
  variantResult({ verdict, reason });

describe("--repeat", () => {
  it("keeps a verdict all runs agree on, and says so", () => {
    const r = combineRepeats([run("pass"), run("pass"), run("pass")]);
    expect(r.verdict).toBe("pass");
    expect(r.repeat).toEqual({ runs: 3, agreed: 3, verdicts: { pass: 3 } });
    expect(r.durationMs).toBe(3000);
  });

  it("fails a variant whose runs disagree, showing a disagreeing run", () => {
    const r = combineRepeats([
      run("pass"),
      run("fail", "clients.connected: expected == 30, got 28"),
      run("pass"),
    ]);
    expect(r.verdict).toBe("fail");
    expect(r.reason).toMatch(/flaky: 2 of 3 runs agreed \(pass ×2, fail ×1\).*got 28/);
    expect(r.repeat!.agreed).toBe(2);
  });

  it("all runs skipped is a skip", () => {
    expect(combineRepeats([run("skip"), run("skip")]).verdict).toBe("skip");
  });
});
