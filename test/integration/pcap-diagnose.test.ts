/**
 * diagnose --pcap on the catalog's own captures: each scenario run with its captures kept, then
 * its captures alone must name the scenario's cause. And a file that is not a capture is exit 2.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostDiagnosis } from "../../src/diagnosis/index.js";
import { cli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tcprepro-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES: [string, string][] = [
  ["syn-blackhole", "syn-blackhole"],
  ["accept-queue-overflow", "accept-queue-overflow"],
  ["connection-refused", "no-listener"],
  ["reset-on-close", "active-reset"],
];

describe.skipIf(process.getuid?.() !== 0)("diagnose --pcap on the catalog's captures", () => {
  it("names each scenario's cause from its packets alone", async () => {
    const run = await cli([
      "run",
      ...CASES.map(([s]) => `scenarios/${s}.yaml`),
      "--runtime",
      "netns",
      "--variant",
      "baseline",
      "--captures",
      dir,
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const [scenario, cause] of CASES) {
      const at = join(dir, scenario, "baseline");
      const files = readdirSync(at).map((f) => join(at, f));
      const r = await cli(["diagnose", "--pcap", ...files, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const d = JSON.parse(r.stdout) as HostDiagnosis;
      expect(d.causes[0]!.cause, `${scenario}: ${r.stdout}`).toBe(cause);
      expect(d.causes[0]!.confidence, scenario).toBe("strong");
    }
  });
});

describe("diagnose --pcap: bad input", () => {
  it("a file that is not a pcap is exit 2, naming it", async () => {
    const r = await cli(["diagnose", "--pcap", "package.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pcap package\.json: not a pcap file: magic/);
  });
});
