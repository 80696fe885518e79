/**
 * The kernel matrix on real VMs: catalog scenarios on Debian's 6.1 and 7.2 kernels booted under
 * QEMU, the counters read inside the guests; shards merged give the same report as one run; an
 * interrupted run leaves no QEMU process, no VM directory and no state file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli } from "./helpers.js";

const KERNELS = ["6.1", "7.2"];
// Two quick scenarios of the catalog; `run scenarios/ --kernel …` runs all of it (README).
const SCENARIOS = ["scenarios/tw-bucket-overflow.yaml", "scenarios/connection-refused.yaml"];
const STATE_DIR = "/run/tcprepro";
const dir = mkdtempSync(join(tmpdir(), "tcprepro-vm-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface VmState {
  pid: number;
  qemuPid: number;
  dir: string;
}

/** State files of VMs whose owner is `owner`, or (no owner) a CLI this test process started. */
function vmsOf(owner?: number): VmState[] {
  if (!existsSync(STATE_DIR)) return [];
  return readdirSync(STATE_DIR)
    .filter((f) => /^vm-.+\.json$/.test(f))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(STATE_DIR, f), "utf8")) as VmState];
      } catch {
        return [];
      }
    })
    .filter((s) => (owner === undefined ? parentOf(s.pid) === process.pid : s.pid === owner));
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function isQemu(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-system");
  } catch {
    return false;
  }
}

/**
 * What a run decided per (scenario, variant, kernel): the verdict and each expectation's
 * outcome (the expected cause among them). Incidental causes (SYN cookies tripping on 6.1 in
 * one burst and not the next) are the kernel's timing, not the run's decision.
 */
const key = (r: RunReport) =>
  r.scenarios
    .flatMap((s) =>
      s.variants.map(
        (v) =>
          `${s.name}/${v.variant}@${v.kernel}: ${v.verdict} ${v.expectations.map((e) => `${e.path}=${e.ok}`).join(" ")}`,
      ),
    )
    .sort();

describe("kernel matrix in VMs", () => {
  beforeAll(async () => {
    const fetch = await cli(["kernels", "fetch", ...KERNELS]);
    expect(fetch.code, fetch.stderr).toBe(0);
  }, 900_000);

  let whole: RunReport;

  it("runs catalog scenarios on 6.1 and 7.2 with each guest's own counters", async () => {
    const json = join(dir, "m.json");
    const run = await cli(["run", ...SCENARIOS, "--kernel", KERNELS.join(","), "--json", json]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    whole = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    expect(Object.keys(whole.kernels!)).toEqual(KERNELS);
    expect(whole.kernels!["6.1"]!.release).toMatch(/^6\.1\./);
    expect(whole.kernels!["7.2"]!.release).toMatch(/^7\.2\./);
    for (const k of KERNELS) {
      const base = whole.scenarios
        .find((s) => s.name === "tw-bucket-overflow")!
        .variants.find((v) => v.variant === "baseline" && v.kernel === k)!;
      expect(base.verdict).toBe("pass");
      expect(base.nodes.server!.counters.TcpExtTCPTimeWaitOverflow).toBeGreaterThan(0);
      expect(base.causes.map((c) => c.cause)).toContain("tw-bucket-overflow");
    }
    // One clock: the guests' times are on the host's t=0; no attempt starts before its `at`.
    const at: Record<string, number> = { "tw-bucket-overflow": 200, "connection-refused": 0 };
    for (const s of whole.scenarios)
      for (const v of s.variants)
        for (const a of v.attempts)
          expect(a.startMs, `${s.name}/${v.variant}@${v.kernel}`).toBeGreaterThanOrEqual(
            at[s.name]!,
          );
    expect(run.stdout).toMatch(/tw-bucket-overflow\/baseline\s+PASS/);
    expect(run.stdout).toMatch(
      /what differs between kernel 6\.1 \(6\.1\.[^)]*\) and kernel 7\.2 \(7\.2\./,
    );
    // The kernels' own differences come after the behaviour, a counter 6.1 lacks as absent.
    expect(run.stdout).toMatch(
      /the kernels themselves \(6\.1 vs 7\.2\):[\s\S]*absent on 6\.1 \(not 0/,
    );
    expect(whole.kernels!["6.1"]!.facts?.counters).toContain("TcpExtListenDrops");
    expect(vmsOf(run.pid)).toEqual([]);
  });

  it("reproduces a full neighbour table, which needs the whole kernel, on 6.1 and 7.2", async () => {
    const json = join(dir, "neighbour.json");
    const run = await cli([
      "run",
      "scenarios/neighbour-table-full.yaml",
      "--kernel",
      KERNELS.join(","),
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    const variants = report.scenarios[0]!.variants;
    for (const k of KERNELS) {
      const at = (name: string) => variants.find((v) => v.variant === name && v.kernel === k)!;
      // Both kernels have the 6.5 change: ENOBUFS with IP_RECVERR, a silent drop without.
      const base = at("baseline");
      expect(base.clients.outcomes.ENOBUFS).toBeGreaterThan(10);
      expect(base.dropReasons?.counts?.NEIGH_CREATEFAIL).toBeGreaterThan(10);
      const silent = at("silent");
      expect(silent.clients.outcomes.connected).toBe(silent.clients.attempts);
      expect(silent.causes.map((c) => c.cause)).toEqual(["neighbour-table-full"]);
      expect(at("mitigated").causes.map((c) => c.cause)).toEqual(["none"]);
    }
    expect(vmsOf(run.pid)).toEqual([]);
  });

  it("gives the same report from two shards merged as from one run", async () => {
    const parts = [];
    for (const shard of ["1/2", "2/2"]) {
      const json = join(dir, `shard-${shard.replace("/", "of")}.json`);
      const run = await cli([
        "run",
        ...SCENARIOS,
        "--kernel",
        KERNELS.join(","),
        "--shard",
        shard,
        "--json",
        json,
      ]);
      expect(run.code, run.stderr).toBe(0);
      parts.push(json);
    }
    const out = join(dir, "merged.json");
    const merge = await cli(["merge", ...parts, "-o", out]);
    expect(merge.code, merge.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(out, "utf8")) as RunReport;
    expect(key(merged)).toEqual(key(whole));
    const compare = await cli(["compare", out, "--kernels", KERNELS.join(",")]);
    expect(compare.code, compare.stderr).toBe(0);
    expect(compare.stdout).toContain("tw-bucket-overflow/baseline");
  });

  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    it(`leaves no QEMU process after ${signal}${signal === "SIGKILL" ? " and clean" : ""}`, async () => {
      let vms: VmState[] = [];
      const run = await cli(
        ["run", SCENARIOS[0]!, "--kernel", "7.2", "--variant", "baseline"],
        (text) => {
          // Mid-run: the VM is up and the variant's topology is coming up inside it.
          if (!/baseline: starting/.test(text)) return undefined;
          vms = vmsOf();
          return signal;
        },
      );
      if (signal === "SIGKILL") {
        expect(run.signal).toBe("SIGKILL");
        // The VM outlives a SIGKILLed run until `clean` finds its owner gone.
        const clean = await cli(["clean"]);
        expect(clean.code, clean.stderr).toBe(0);
        expect(clean.stdout).toMatch(/[1-9]\d* VM\(s\)/);
      } else {
        expect(run.code).toBe(130);
      }
      expect(vms).toHaveLength(1);
      expect(vms.map((v) => v.qemuPid).filter(isQemu)).toEqual([]);
      expect(vms.map((v) => v.dir).filter(existsSync)).toEqual([]);
      expect(vmsOf(run.pid)).toEqual([]);
    });
  }
});
