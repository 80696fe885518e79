/**
 * The whole catalog on the real kernel: every variant passes or SKIPs with a kernel reason,
 * every baseline names the cause it reproduces, every mitigation names none or a milder cause.
 * TCPREPRO_REPEAT=N runs every variant N times and requires that all N verdicts agree
 * (.ci/run sets 2; `tcprepro run scenarios/ --parallel 4 --repeat 10` was 310 runs, 0
 * disagreements here).
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli, leftovers } from "./helpers.js";

const REPEAT = Math.max(1, Number(process.env.TCPREPRO_REPEAT ?? 1));

const RUNTIMES = ["docker", "netns"] as const;
const reports = new Map<string, RunReport>();

/** Network namespaces of tcprepro's still on the host (the netns runtime's leftovers). */
function namespaces(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith("tcprepro-"));
}

for (const runtime of RUNTIMES)
  describe(`the catalog on ${runtime}${REPEAT > 1 ? `, ${REPEAT} runs of every variant` : ""}`, () => {
    const json = join(tmpdir(), `tcprepro-catalog-${runtime}-${process.pid}.json`);
    let report: RunReport;
    let pid = 0;

    it("runs every scenario and exits 0", async () => {
      // In parallel: also proves variants on one engine at once keep to their own networks.
      const run = await cli([
        "run",
        "scenarios/",
        "--runtime",
        runtime,
        "--parallel",
        "4",
        "--repeat",
        String(REPEAT),
        "--json",
        json,
      ]);
      pid = run.pid;
      report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
      reports.set(runtime, report);
      rmSync(json, { force: true });
      expect(report.runtime).toBe(runtime);
      const failed = report.scenarios.flatMap((s) =>
        s.variants
          .filter((v) => v.verdict !== "pass" && v.verdict !== "skip")
          .map((v) => `${s.name}/${v.variant}: ${v.reason}`),
      );
      expect(failed).toEqual([]);
      expect(run.code).toBe(0);
      const variants = report.scenarios.flatMap((s) => s.variants);
      const runs = variants.reduce((n, v) => n + (v.repeat?.runs ?? 0), 0);
      const disagreements = variants.reduce(
        (n, v) => n + (v.repeat ? v.repeat.runs - v.repeat.agreed : 0),
        0,
      );
      process.stderr.write(
        `catalog: ${variants.length} variants, ${runs} runs, ${disagreements} disagreements\n`,
      );
      expect(runs).toBe(variants.length * REPEAT);
      expect(disagreements).toBe(0);
    });

    it("every baseline that ran names its expected cause; skips say why", () => {
      for (const s of report.scenarios) {
        const base = s.variants.find((v) => v.variant === "baseline")!;
        if (base.verdict === "skip") {
          expect(base.reason, s.name).toMatch(/kernel|sysctl|counter/);
          continue;
        }
        const cause = base.expectations.find((e) => e.path === "cause");
        expect(cause, `${s.name} baseline has expect.cause`).toBeDefined();
        expect(cause!.ok, s.name).toBe(true);
        expect(cause!.expected, s.name).not.toBe("none");
      }
    });

    it("every scenario has a mitigation that ran and named none or a milder cause", () => {
      for (const s of report.scenarios) {
        const others = s.variants.filter((v) => v.variant !== "baseline");
        expect(others.length, s.name).toBeGreaterThan(0);
        if (s.variants.every((v) => v.verdict === "skip")) continue;
        const mitigated = s.variants.find((v) => v.variant === "mitigated")!;
        expect(mitigated.expectations.find((e) => e.path === "cause")?.ok, s.name).toBe(true);
      }
    });

    it("tw_recycle SKIPs on this kernel with the reason", () => {
      const tw = report.scenarios.find((s) => s.name === "tw-recycle-nat")!;
      expect(tw.variants[0]!.verdict).toBe("skip");
    });

    it("leaves nothing behind", async () => {
      expect(await leftovers(pid)).toEqual({ containers: 0, networks: 0 });
      expect(namespaces()).toEqual([]);
    });
  });

describe("the two runtimes", () => {
  /**
   * Verdicts, and the causes each scenario expects, must be the same on both. Causes named on
   * top of those are compared only in the log: they vary between any two runs, on one runtime
   * too (SYN cookies in a retransmit burst, PAWS next to NAT collisions).
   */
  it("give the same verdicts and name the expected causes on both", () => {
    const table = (r: RunReport | undefined, extra = false) =>
      Object.fromEntries(
        (r?.scenarios ?? []).flatMap((s) =>
          s.variants.map((v) => {
            const expected = v.expectations.find((e) => e.path === "cause");
            const named = v.causes
              .map((c) => c.cause)
              .sort()
              .join(", ");
            return [
              `${s.name}/${v.variant}`,
              extra
                ? named
                : `${v.verdict}; expected cause ${expected?.expected ?? "-"}: ${expected?.ok ?? "-"}`,
            ];
          }),
        ),
      );
    const docker = table(reports.get("docker"));
    expect(Object.keys(docker).length).toBeGreaterThan(20);
    expect(table(reports.get("netns"))).toEqual(docker);
    const [d, n] = [table(reports.get("docker"), true), table(reports.get("netns"), true)];
    for (const k of Object.keys(d))
      if (d[k] !== n[k])
        process.stderr.write(`causes named: ${k}: docker [${d[k]}] netns [${n[k]}]\n`);
  });
});
