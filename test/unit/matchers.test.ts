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

describe("matchers on a report with a pick", () => {
  const onKernel = (kernel: string, v: typeof passing) => ({ ...v, kernel });
  const matrix: RunReport = {
    ...report,
    kernel: "6.1,host",
    runtime: "matrix",
    kernels: {
      "6.1": { release: "6.1.0", runtime: "vm:6.1" },
      host: report.kernels?.host ?? { release: "6.18", runtime: "docker" },
    },
    scenarios: [
      {
        name: "aq",
        file: "aq.yaml",
        summary: "",
        variants: [
          onKernel("6.1", passing),
          onKernel("host", { ...passing, verdict: "fail", causes: [] }),
          onKernel("6.1", failing),
        ],
      },
    ],
  };

  it("pick { scenario, variant, kernel }: the scenario when there is one, the baseline by default", () => {
    expect(matrix).toHaveCause("accept-queue-overflow", { kernel: "6.1" });
    expect(matrix).not.toHaveCause("accept-queue-overflow", { kernel: "host" });
    expect(matrix).toPass({ kernel: "6.1" });
    expect(matrix).not.toPass({ kernel: "6.1", variant: "mitigated" });
    expect(matrix).toHaveCounter("client", "TcpExtTCPSynRetrans", 5, {
      scenario: "aq",
      kernel: "6.1",
    });
    expect(report).toPass({ scenario: "aq" });
  });

  it("says what to pick when the pick is ambiguous or names nothing", () => {
    expect(() => expect(matrix).toPass({})).toThrow(
      /ran on kernels 6.1, host: pick one with \{ kernel \}/,
    );
    expect(() => expect(matrix).toPass({ kernel: "7.2" })).toThrow(
      /did not run on kernel 7.2 \(it ran on 6.1, host\)/,
    );
    expect(() => expect(matrix).toPass({ scenario: "x", kernel: "6.1" })).toThrow(
      /no scenario "x" \(it has aq\)/,
    );
    expect(() => expect(matrix).toPass({ variant: "y", kernel: "6.1" })).toThrow(
      /no variant "y" \(it has baseline, mitigated\)/,
    );
  });
});
