import { describe, expect, it } from "vitest";
import * as errors from "../../src/model/errors.js";
import { exitCodeFor } from "../../src/model/errors.js";

describe("errors", () => {
  it("each has a stable code, and its exit code comes from its class, not a string", () => {
    const all = [
      new errors.ScenarioError([]),
      new errors.UsageError("u"),
      new errors.RuntimeUnavailableError("r"),
      new errors.KernelUnavailableError("k"),
      new errors.ExecError(["x"], 1, ""),
      new errors.StepTimeoutError("t"),
      new errors.NotReadyError("n"),
      new errors.ImageUnsupportedError("i"),
      new errors.GuestError(2, "g"),
      new errors.DumpError("both", "d"),
      new errors.SnapshotError("s"),
      new errors.PcapError("p"),
    ];
    for (const e of all) expect(e.code).toMatch(/^TCPREPRO_[A-Z_]+$/);
    expect(all.map((e) => exitCodeFor(e))).toEqual([2, 2, 2, 2, 1, 1, 1, 2, 1, 2, 2, 2]);
    expect(exitCodeFor(new Error("plain"))).toBe(1);
    // A machine problem is exit 2 with what to do.
    expect(new errors.KernelUnavailableError("k")).toBeInstanceOf(errors.RuntimeUnavailableError);
  });
});
