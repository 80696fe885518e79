/**
 * The user's own server and client: Debian's nginx (installed offline with `packages:`) frozen
 * during a burst of 60 curl runs. The cause is named from curl's own outcomes and the server's
 * counters; the mitigation (a bigger listen backlog) makes it go away. A server that never
 * becomes ready ERRORs within its ready timeout, quoting its log.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli, leftovers } from "./helpers.js";

describe("nginx + curl: accept-queue-overflow from the real client's errors", () => {
  const json = join(tmpdir(), `tcprepro-ownapp-${process.pid}.json`);
  let report: RunReport;

  it("runs both variants and exits 0", async () => {
    const run = await cli(["run", "test/fixtures/user/nginx-curl.yaml", "--json", json]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    rmSync(json, { force: true });
  });

  it("baseline: curl timed out connecting, the server's accept queue overflowed", () => {
    const base = report.scenarios[0]!.variants.find((v) => v.variant === "baseline")!;
    expect(base.verdict, `${base.reason}: ${JSON.stringify(base.clients.outcomes)}`).toBe("pass");
    expect(base.causes.map((c) => c.cause)).toContain("accept-queue-overflow");
    expect(base.nodes.server!.counters.TcpExtListenOverflows).toBeGreaterThan(0);
    // Every attempt is one curl run, with its exit status and timing.
    expect(base.attempts).toHaveLength(60);
    for (const a of base.attempts) {
      expect(a.exitCode === 0 || a.exitCode === 28, JSON.stringify(a)).toBe(true);
      expect(a.durationMs).toBeGreaterThan(0);
      expect(a.outcome).toBe(a.exitCode === 0 ? "connected" : "timeout");
    }
    const stalled = base.attempts.filter((a) => a.outcome === "timeout" && a.phase === "connect");
    expect(stalled.length).toBeGreaterThan(0);
    // Those that made it into the queue (backlog 16 → 17) were served after the thaw.
    const outcomes = JSON.stringify(base.clients.outcomes);
    expect(base.clients.outcomes.connected, outcomes).toBeGreaterThan(0);
    expect(base.clients.outcomes.connected, outcomes).toBeLessThanOrEqual(20);
  });

  it("mitigated (backlog 4096): every curl succeeds, nothing overflows", () => {
    const m = report.scenarios[0]!.variants.find((v) => v.variant === "mitigated")!;
    expect(m.verdict, m.reason).toBe("pass");
    expect(m.causes.map((c) => c.cause)).toEqual(["none"]);
    expect(m.clients.outcomes).toEqual({ connected: 60 });
    expect(m.nodes.server!.counters.TcpExtListenOverflows ?? 0).toBe(0);
  });
});

describe("a user image that never becomes ready", () => {
  it("ERRORs within its ready timeout, quoting the container's last log lines", async () => {
    const json = join(tmpdir(), `tcprepro-never-${process.pid}.json`);
    const run = await cli(["run", "test/fixtures/user/never-ready.yaml", "--json", json]);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    rmSync(json, { force: true });
    const v = report.scenarios[0]!.variants[0]!;
    expect(v.verdict).toBe("error");
    expect(v.reason).toMatch(
      /node server not ready within 3000 ms: waited for port 8081 listening/,
    );
    expect(v.reason).toMatch(/last \d+ log line\(s\):\n\s+my-server starting on 8081/);
    // The 3 s wait plus the topology's up and down, not the scenario's 2 min timeout.
    expect(v.durationMs).toBeLessThan(3_000 + 20_000);
    expect(v.attempts).toEqual([]);
    expect(await leftovers(run.pid)).toEqual({ containers: 0, networks: 0 });
  });
});

describe("build: a Dockerfile context", () => {
  it("is built offline, waited for by its log line, and cached", async () => {
    const json = join(tmpdir(), `tcprepro-built-${process.pid}.json`);
    const run = await cli(["run", "test/fixtures/user/built-image.yaml", "--json", json]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const v = (JSON.parse(readFileSync(json, "utf8")) as RunReport).scenarios[0]!.variants[0]!;
    rmSync(json, { force: true });
    expect(v.clients.outcomes).toEqual({ ECONNREFUSED: 3 });
    // A second run reuses the image: nothing is built.
    const again = await cli(["run", "test/fixtures/user/built-image.yaml"]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/building tcprepro\/build/);
  });
});

describe("bad keys for your own software are refused before anything is created", () => {
  for (const [file, where] of [
    [
      "ready-two-kinds.yaml",
      /ready-two-kinds\.yaml:9:\d+: nodes\.server\.ready: ready has exactly one of/,
    ],
    [
      "build-missing-context.yaml",
      /build-missing-context\.yaml:8:\d+: nodes\.server\.build: build context .* is not a directory/,
    ],
    [
      "command-literal-address.yaml",
      /command-literal-address\.yaml:11:\d+: traffic\.0\.command\.1: .* names an address/,
    ],
  ] as const) {
    it(file, async () => {
      const run = await cli(["run", `test/fixtures/bad/${file}`]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(where);
      expect(await leftovers(run.pid)).toEqual({ containers: 0, networks: 0 });
    });
  }
});
