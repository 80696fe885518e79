/**
 * `--accel`: the decision logic with a stand-in for QEMU (which boots are tried, in which order,
 * and what is kept per host). The real KVM abort and stall are measured by bench/vm.ts --accel.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Accel,
  accelCachePath,
  accelRequested,
  bootWithAccel,
  type Booter,
  cachedAccel,
  parseAccel,
  PROBE_DEADLINE_MS,
  qemuAccelArgs,
  SPEED_LIMIT_MS,
} from "../../src/vm/accel.js";

const hasKvm = () => undefined;

/** A booter whose KVM aborts, stalls, crawls or works; it records every boot and stop. */
function fake(kvm: "abort" | "stall" | "crawl" | "works"): Booter<string> & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    async boot(accel: Accel, deadlineMs?: number) {
      log.push(`boot ${accel}${deadlineMs ? ` ${deadlineMs}` : ""}`);
      if (accel === "kvm" && kvm === "abort")
        throw new Error(
          "kernel 6.1: QEMU exited: qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069\nkvm.c: Assertion failed",
        );
      if (accel === "kvm" && kvm === "stall")
        throw new Error("kernel 6.1: the guest agent did not answer");
      return `vm-${accel}`;
    },
    async speed(vm: string) {
      return vm === "vm-kvm" && kvm === "crawl" ? SPEED_LIMIT_MS * 4 : 50;
    },
    async stop(vm: string) {
      log.push(`stop ${vm}`);
    },
  };
}

let dir: string;
const saved = { cache: process.env.TCPREPRO_CACHE, accel: process.env.TCPREPRO_ACCEL };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tcprepro-accel-test-"));
  process.env.TCPREPRO_CACHE = dir;
  delete process.env.TCPREPRO_ACCEL;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of [
    ["TCPREPRO_CACHE", saved.cache],
    ["TCPREPRO_ACCEL", saved.accel],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

describe("--accel auto", () => {
  it("falls back to TCG when KVM aborts, says why, and the next run does not probe", async () => {
    const said: string[] = [];
    const first = fake("abort");
    const a = await bootWithAccel("auto", first, (m) => said.push(m), hasKvm);
    expect(a.vm).toBe("vm-tcg");
    expect(a.decision).toMatchObject({ accel: "tcg", source: "probe" });
    expect(a.decision.why).toBe("KVM failed: failed to set MSR 0x10a to 0xc000069");
    expect(first.log).toEqual([`boot kvm ${PROBE_DEADLINE_MS}`, "boot tcg"]);
    expect(said.join("\n")).toMatch(/falling back to TCG/);
    expect(JSON.parse(readFileSync(accelCachePath(), "utf8"))).toBeTypeOf("object");

    const second = fake("abort");
    const b = await bootWithAccel("auto", second, () => undefined, hasKvm);
    expect(b.decision).toMatchObject({ accel: "tcg", source: "cache" });
    expect(second.log).toEqual(["boot tcg"]);
  });

  it("a KVM that stalls is given up at the deadline and said to stall", async () => {
    const r = await bootWithAccel("auto", fake("stall"), () => undefined, hasKvm);
    expect(r.decision.why).toBe(
      `KVM stalled: no answer from the guest within ${PROBE_DEADLINE_MS / 1000} s`,
    );
  });

  it("a KVM that worked before and fails now is probed again, not trusted", async () => {
    await bootWithAccel("auto", fake("works"), () => undefined, hasKvm);
    const b = fake("abort");
    const r = await bootWithAccel("auto", b, () => undefined, hasKvm);
    expect(r.decision).toMatchObject({ accel: "tcg", source: "probe" });
    expect(b.log).toEqual([
      `boot kvm ${2 * PROBE_DEADLINE_MS}`,
      `boot kvm ${PROBE_DEADLINE_MS}`,
      "boot tcg",
    ]);
    expect(cachedAccel()?.accel).toBe("tcg");
  });

  it("a KVM that boots but crawls is stopped and replaced by TCG", async () => {
    const b = fake("crawl");
    const r = await bootWithAccel("auto", b, () => undefined, hasKvm);
    expect(r.vm).toBe("vm-tcg");
    expect(r.decision.why).toMatch(/KVM crawls/);
    expect(b.log).toEqual([`boot kvm ${PROBE_DEADLINE_MS}`, "stop vm-kvm", "boot tcg"]);
  });

  it("a KVM that works is the run's own boot (no second boot), and is kept", async () => {
    const b = fake("works");
    const r = await bootWithAccel("auto", b, () => undefined, hasKvm);
    expect(r).toMatchObject({ vm: "vm-kvm", decision: { accel: "kvm", source: "probe" } });
    expect(b.log).toEqual([`boot kvm ${PROBE_DEADLINE_MS}`]);
    expect(cachedAccel()?.accel).toBe("kvm");
  });

  it("without a usable /dev/kvm, TCG at once and nothing kept", async () => {
    const b = fake("works");
    const r = await bootWithAccel(
      "auto",
      b,
      () => undefined,
      () => "no /dev/kvm",
    );
    expect(r.decision).toMatchObject({ accel: "tcg", source: "no-kvm", why: "no /dev/kvm" });
    expect(b.log).toEqual(["boot tcg"]);
    expect(cachedAccel()).toBeUndefined();
  });

  it("kvm and tcg are forced: one boot, no fallback, no probe", async () => {
    const b = fake("abort");
    await expect(bootWithAccel("kvm", b, () => undefined, hasKvm)).rejects.toThrow(/MSR/);
    expect((await bootWithAccel("tcg", b, () => undefined, hasKvm)).decision.source).toBe("forced");
    expect(b.log).toEqual(["boot kvm", "boot tcg"]);
  });
});

describe("accel flags", () => {
  it("parses auto|kvm|tcg, takes TCPREPRO_ACCEL, and names the bad value", () => {
    expect(parseAccel("kvm")).toBe("kvm");
    expect(() => parseAccel("hvf")).toThrow(/--accel: "hvf" is not one of auto, kvm, tcg/);
    expect(accelRequested()).toBe("auto");
    process.env.TCPREPRO_ACCEL = "tcg";
    expect(accelRequested()).toBe("tcg");
    expect(accelRequested("kvm")).toBe("kvm");
    process.env.TCPREPRO_ACCEL = "fast";
    expect(() => accelRequested()).toThrow(/TCPREPRO_ACCEL: "fast"/);
  });

  it("gives QEMU the host's CPU under KVM and `max` without rep-string features under TCG", () => {
    const cpu = "max,erms=off,fsrm=off";
    expect(qemuAccelArgs("tcg", 1)).toEqual(["-accel", "tcg", "-cpu", cpu, "-smp", "1"]);
    expect(qemuAccelArgs("tcg", 2)).toEqual([
      "-accel",
      "tcg,thread=multi",
      "-cpu",
      cpu,
      "-smp",
      "2",
    ]);
    expect(qemuAccelArgs("kvm", 1).slice(0, 3)).toEqual(["-accel", "kvm", "-cpu"]);
  });
});
