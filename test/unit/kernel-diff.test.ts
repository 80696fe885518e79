/** The kernel diff of a matrix: behaviour first, a counter one kernel lacks absent (not 0). */
import { describe, expect, it } from "vitest";
import { htmlReport } from "../../src/report/html.js";
import { diffKernels, kernelFactLines } from "../../src/report/kernel-diff.js";
import { formatKernelDifferences } from "../../src/report/matrix-table.js";
import type { KernelFactsSummary, RunReport, VariantResult } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";

const facts = (counters: string[], over: Partial<KernelFactsSummary> = {}): KernelFactsSummary => ({
  counters,
  sysctls: { "net.ipv4.tcp_tw_recycle": false },
  qdiscs: ["netem"],
  ...over,
});

const v = (variant: string, kernel: string, extra: Partial<VariantResult>): VariantResult =>
  variantResult({ variant, kernel, ...extra });

/** A matrix of 4.11 (tw_recycle, no drop reasons, no IpOutTransmits) and 7.2. */
const report: RunReport = {
  tool: { name: "tcprepro", version: "0.1.0" },
  kernel: "4.11,7.2",
  runtime: "matrix",
  startedAt: "2026-12-06T10:00:00.000Z",
  durationMs: 1,
  kernels: {
    "4.11": {
      release: "4.11.0",
      runtime: "vm:4.11",
      facts: facts(["IpOutRequests", "TcpExtPAWSPassive", "TcpExtTCPSynRetrans"], {
        sysctls: { "net.ipv4.tcp_tw_recycle": true },
        noDropReasons: "no reason field before 5.17",
      }),
    },
    "7.2": {
      release: "7.2.13",
      runtime: "vm:7.2",
      facts: facts([
        "IpOutRequests",
        "IpOutTransmits",
        "TcpExtPAWSTimewait",
        "TcpExtTCPSynRetrans",
      ]),
    },
  },
  scenarios: [
    {
      name: "syn-blackhole",
      file: "scenarios/syn-blackhole.yaml",
      summary: "",
      variants: [
        v("baseline", "4.11", {
          verdict: "pass",
          causes: [{ cause: "syn-blackhole", node: "client", because: "", numbers: {} }],
          nodes: { client: { counters: { TcpExtTCPSynRetrans: 25, IpOutRequests: 500 } } },
        }),
        v("baseline", "7.2", {
          verdict: "pass",
          causes: [{ cause: "syn-blackhole", node: "client", because: "", numbers: {} }],
          nodes: {
            client: {
              counters: { TcpExtTCPSynRetrans: 10, IpOutRequests: 500, IpOutTransmits: 500 },
            },
          },
        }),
      ],
    },
  ],
};

describe("the kernel diff", () => {
  it("keeps a counter one kernel lacks apart, as absent, and counts behaviour alone", () => {
    const d = diffKernels(report, "4.11", "7.2");
    const [variant] = d.behaviour.variants;
    expect(variant!.counters.map((c) => c.counter)).toEqual(["TcpExtTCPSynRetrans"]);
    expect(variant!.absent).toEqual([
      { node: "client", counter: "IpOutTransmits", a: null, b: 500 },
    ]);
    expect(d.absent).toEqual([{ counter: "IpOutTransmits", presentOn: "b", variants: 1 }]);
  });

  it("names what differs in the kernels themselves: tw_recycle, drop reasons, counters that came and went", () => {
    const lines = kernelFactLines(diffKernels(report, "4.11", "7.2")).join("\n");
    expect(lines).toContain("net.ipv4.tcp_tw_recycle exists on 4.11 only");
    expect(lines).toContain(
      "drop reasons: none on 4.11 (no reason field before 5.17); recorded on 7.2",
    );
    expect(lines).toContain("counters on 4.11 only (1, vanished on 7.2): TcpExtPAWSPassive");
    expect(lines).toContain(
      "counters on 7.2 only (2, appeared since 4.11): TcpExtPAWSTimewait, IpOutTransmits",
    );
    expect(lines).toContain(
      "moved on 7.2, absent on 4.11 (not 0: 4.11 has no such counter): IpOutTransmits (1 variant)",
    );
  });

  it("prints behaviour before the kernels' own differences", () => {
    const text = formatKernelDifferences(report);
    const behaviour = text.indexOf("TcpExtTCPSynRetrans");
    const kernels = text.indexOf("the kernels themselves");
    expect(behaviour).toBeGreaterThan(0);
    expect(kernels).toBeGreaterThan(behaviour);
    expect(text).not.toMatch(/IpOutTransmits\s+0\s+500/);
  });

  it("shows a matrix in HTML as kernels side by side per variant, and the diff", () => {
    const html = htmlReport(report);
    const tables = [...html.matchAll(/<table class="variants"[^>]*data-variant="([^"]+)"/g)];
    expect(tables.map((m) => m[1])).toEqual(["baseline"]);
    expect(html).toMatch(
      /<th scope="col"><a [^>]*>4\.11<\/a><\/th><th scope="col"><a [^>]*>7\.2<\/a>/,
    );
    expect(html).toContain('<section class="kernel-diff"');
    expect(html).toContain("net.ipv4.tcp_tw_recycle exists on 4.11 only");
  });
});
