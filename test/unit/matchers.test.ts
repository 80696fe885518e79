import { describe, expect, it } from "vitest";
import "../../src/vitest.js";
import { checkCounter, checkPass } from "../../src/verdict/matchers.js";
import type { RunReport } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";

const failing = variantResult({
  variant: "mitigated",
  verdict: "fail",
  reason: "x",
  nodes: { server: { counters: { TcpExtListenOverflows: 12 } } },
  expectations: [
    {
      path: "cause",
      expected: "none",
      actual: "accept-queue-overflow",
      ok: false,
      source: "s.yaml:30",
    },
  ],
  causes: [{ cause: "accept-queue-overflow", node: "server", because: "overflowed", numbers: {} }],
});
const passing = variantResult({
  nodes: {
    "client.1": { counters: { TcpExtTCPSynRetrans: 2 } },
    "client.2": { counters: { TcpExtTCPSynRetrans: 3 } },
  },
  causes: [{ cause: "accept-queue-overflow", node: "server", because: "overflowed", numbers: {} }],
});
const report: RunReport = {
  tool: { name: "tcprepro", version: "0" },
  kernel: "6.18",
  runtime: "docker",
  startedAt: "",
  durationMs: 1,
  scenarios: [{ name: "aq", file: "aq.yaml", summary: "", variants: [passing, failing] }],
};

describe("tcprepro/vitest matchers", () => {
  it("take a variant or a whole report", () => {
    expect(passing).toPass();
    expect(failing).not.toPass();
    expect(report).not.toPass();
    expect(report).toHaveCause("accept-queue-overflow");
    expect(passing).toHaveCounter("client", "TcpExtTCPSynRetrans", 5);
    expect(passing).toHaveCounter("client", "TcpExtListenOverflows", "== 0");
    expect(failing).toHaveCounter("server", "TcpExtListenOverflows", "> 10");
  });

  it("say what was expected and what happened, like the CLI", () => {
    expect(checkPass(report).lines.join("\n")).toContain(
      "aq/mitigated: FAIL\n    cause: expected none, got accept-queue-overflow (s.yaml:30)",
    );
    expect(() => expect(failing).toPass()).toThrow(
      /cause: expected none, got accept-queue-overflow/,
    );
    expect(() => expect(failing).toHaveCause("none")).toThrow(
      /mitigated: cause: expected none, got accept-queue-overflow/,
    );
    expect(checkCounter(report, "server", "TcpExtListenOverflows", "> 0").lines).toEqual([
      'aq/baseline: counters.server.TcpExtListenOverflows: expected > 0, got no node "server"',
      "aq/mitigated: counters.server.TcpExtListenOverflows: expected > 0, got 12",
    ]);
  });
});
