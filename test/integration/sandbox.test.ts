/**
 * A scenario file from someone else on the netns runtime: its commands cannot write the host's
 * files (the run reports what they got: EROFS), command traffic keeps its state per node and
 * leaves none behind, with replicas, twice in a row and with variants in parallel.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli, netnsLeftovers } from "./helpers.js";

const work = mkdtempSync(join(tmpdir(), "tcprepro-sandbox-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What a command-traffic run would leave in the host's /tmp (the old fixed directory). */
const trafficDirs = () => readdirSync("/tmp").filter((f) => f.startsWith("tcprepro-traffic-"));

describe.skipIf(process.getuid?.() !== 0)("scenario commands on netns", () => {
  it("a traffic command that writes the host's /tmp, /root and /etc changes nothing of the host", async () => {
    const probe = "tcprepro-sandbox-probe"; // the fixture's file name
    const json = join(work, "writes-host.json");
    const run = await cli([
      "run",
      "test/fixtures/sandbox/writes-host.yaml",
      "--runtime",
      "netns",
      "--json",
      json,
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // The run says what the command got: /tmp was writable (the node's own), the rest EROFS.
    const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    const variant = report.scenarios[0]!.variants[0]!;
    expect(variant.verdict).toBe("pass");
    expect(run.stdout).toMatch(/EROFS\s+1/);
    for (const dir of ["/tmp", "/root", "/etc"])
      expect(existsSync(join(dir, probe)), `${dir}/${probe} on the host`).toBe(false);
    expect(netnsLeftovers(run.pid)).toBe(0);
  });

  it("a client with replicas: 2 and a command passes twice in a row and with --parallel 4", async () => {
    const before = trafficDirs();
    for (const extra of [[], [], ["--parallel", "4"]]) {
      const run = await cli([
        "run",
        "test/fixtures/sandbox/replicas-command.yaml",
        "--runtime",
        "netns",
        ...extra,
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/4 passed, 0 failed/);
      expect(netnsLeftovers(run.pid)).toBe(0);
    }
    expect(trafficDirs()).toEqual(before);
  });
});

describe("validate before running", () => {
  it("--explain on the catalog and on a scenario with an image, a build, packages and commands", async () => {
    const run = await cli([
      "validate",
      "--explain",
      "scenarios/",
      "test/fixtures/sandbox/everything.yaml",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^how each runtime isolates what a node runs:/);
    expect(run.stdout).toMatch(/netns: .*host's files read-only/);
    expect(run.stdout).toMatch(
      /variant other\n(.*\n)*? {6}command sh -c 'echo other; exec sleep 600'/,
    );
    expect(run.stdout).toContain("image nginx:1.27-alpine");
    expect(run.stdout).toContain("RUN chmod +x /usr/local/bin/announce");
  });

  it("an iptables fault with --modprobe: exit 2 naming file, line and key, nothing run", async () => {
    const run = await cli([
      "run",
      "test/fixtures/bad/iptables-modprobe.yaml",
      "--runtime",
      "netns",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /test\/fixtures\/bad\/iptables-modprobe\.yaml:11:\d+: faults\.0\.iptables\.6: "--modprobe=\/bin\/sh"/,
    );
    expect(netnsLeftovers(run.pid)).toBe(0);
    const validate = await cli(["validate", "test/fixtures/bad/iptables-modprobe.yaml"]);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/iptables-modprobe\.yaml:11:\d+: faults\.0\.iptables\.6/);
  });
});
