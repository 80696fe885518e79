import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSources } from "../../src/index.js";
import { autoCapacity, needsKernelAlone, variantWeight } from "../../src/run/cost.js";
import { vmCpus } from "../../src/vm/accel.js";
import { VmRuntime } from "../../src/vm/vm-runtime.js";
import {
  kernelKey,
  longestFirst,
  readDurations,
  recordDurations,
} from "../../src/run/durations.js";
import { weightedLimit } from "../../src/run/weighted-limit.js";

describe("what a variant costs (--parallel auto)", () => {
  const catalog = loadSources(["scenarios/"]);
  const weight = (sc: string, v = "baseline") =>
    variantWeight(catalog.find((s) => s.name === sc)!.variants.find((x) => x.name === v)!.scenario);

  it("weighs a timer wait as one light variant and a flood, a burst or a bulk transfer as more", () => {
    expect(weight("keepalive-dead-peer")).toBe(1);
    expect(weight("accept-queue-overflow")).toBe(1);
    expect(weight("syn-flood")).toBeGreaterThanOrEqual(2);
    // Ten concurrent 200 kB echoes: 4 MB in flight.
    expect(weight("lossy-path", "mitigated")).toBe(2);
    for (const s of catalog)
      for (const v of s.variants) expect(variantWeight(v.scenario)).toBeGreaterThanOrEqual(1);
  });

  it("sizes the capacity from the CPUs, bounded by the runtime", () => {
    expect(autoCapacity({ maxParallel: 16 }, 2)).toBe(4);
    expect(autoCapacity({ maxParallel: 16 }, 64)).toBe(16);
    expect(autoCapacity({ maxParallel: 0 }, 0)).toBe(1);
    // A VM's emulated vCPUs, two each, whatever this machine's cores.
    expect(autoCapacity({ cpus: 1, maxParallel: 2 }, 2)).toBe(2);
    expect(autoCapacity({ cpus: 2, maxParallel: 4 }, 64)).toBe(4);
    // A VM sharing the cores with other VMs takes what it says.
    expect(autoCapacity({ cpus: 1, autoParallel: 1, maxParallel: 2 }, 2)).toBe(1);
  });

  it("gives a VM its share of the cores as vCPUs, at most 4, unless TCPREPRO_VM_CPUS says", () => {
    const env = process.env.TCPREPRO_VM_CPUS;
    delete process.env.TCPREPRO_VM_CPUS;
    try {
      expect(vmCpus()).toBe(1);
      expect(vmCpus(2)).toBe(2);
      expect(vmCpus(0.5)).toBe(1);
      expect(vmCpus(16)).toBe(4);
      process.env.TCPREPRO_VM_CPUS = "3";
      expect(vmCpus(1)).toBe(3);
      process.env.TCPREPRO_VM_CPUS = "0";
      expect(() => vmCpus(2)).toThrow(/TCPREPRO_VM_CPUS: "0"/);
    } finally {
      if (env === undefined) delete process.env.TCPREPRO_VM_CPUS;
      else process.env.TCPREPRO_VM_CPUS = env;
    }
  });

  it("sizes a VM from its share of the cores: vCPUs, and variants side by side", () => {
    const env = process.env.TCPREPRO_VM_CPUS;
    delete process.env.TCPREPRO_VM_CPUS;
    try {
      const caps = (cores: number) => {
        const c = new VmRuntime({ version: "6.1" }, { cores }).capabilities;
        return { cpus: c.cpus, auto: autoCapacity(c, 2) };
      };
      expect(caps(2)).toEqual({ cpus: 2, auto: 4 }); // one kernel on 2 cores
      expect(caps(1)).toEqual({ cpus: 1, auto: 2 }); // two kernels
      expect(caps(0.5)).toEqual({ cpus: 1, auto: 1 }); // four kernels
    } finally {
      if (env !== undefined) process.env.TCPREPRO_VM_CPUS = env;
    }
  });

  it("runs a variant with kernel-wide sysctls alone, on a runtime that owns its kernel", () => {
    const neigh = catalog.find((s) => s.name === "neighbour-table-full")!.variants[0]!.scenario;
    expect(needsKernelAlone(neigh, { ownsKernel: true })).toBe(true);
    expect(needsKernelAlone(neigh, { ownsKernel: false })).toBe(false);
    expect(needsKernelAlone(catalog[0]!.variants[0]!.scenario, { ownsKernel: true })).toBe(false);
  });
});

describe("weightedLimit", () => {
  const gate = () => {
    let open!: () => void;
    const p = new Promise<void>((r) => (open = r));
    return { p, open };
  };

  it("runs light jobs side by side up to the capacity, in order", async () => {
    const limit = weightedLimit(2);
    const started: number[] = [];
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      limit(1, async () => {
        started.push(i);
        await g.p;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[0]!.open();
    await runs[0];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.open();
    gates[2]!.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
  });

  it("runs a job heavier than the capacity alone, and nothing overtakes it", async () => {
    const limit = weightedLimit(2);
    let running = 0;
    let most = 0;
    const job = (w: number) =>
      limit(w, async () => {
        running++;
        most = Math.max(most, running);
        if (w > 1) expect(running).toBe(1);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      });
    await Promise.all([job(1), job(10), job(1), job(1)]);
    expect(most).toBe(2);
  });

  it("counts: a capacity of 1 is one at a time", async () => {
    const limit = weightedLimit(1);
    let running = 0;
    await Promise.all(
      [1, 1, 1].map((w) =>
        limit(w, async () => {
          expect(++running).toBe(1);
          await new Promise((r) => setTimeout(r, 2));
          running--;
        }),
      ),
    );
  });

  it("passes a job's failure on and goes on", async () => {
    const limit = weightedLimit(1);
    await expect(limit(1, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit(1, async () => 7)).toBe(7);
  });
});

describe("durations of earlier runs (longest first)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tcprepro-durations-"));
    process.env.TCPREPRO_DURATIONS = join(dir, "durations.json");
  });
  afterEach(() => {
    delete process.env.TCPREPRO_DURATIONS;
    rmSync(dir, { recursive: true, force: true });
  });

  it("keys a VM on its kernel, not its accelerator", () => {
    expect(kernelKey("vm:6.1/tcg")).toBe("vm:6.1");
    expect(kernelKey("docker")).toBe("docker");
  });

  it("keeps durations per kernel and orders the longest first, unmeasured before", () => {
    expect(readDurations("vm:6.1/tcg").size).toBe(0);
    recordDurations(
      "vm:6.1/tcg",
      new Map([
        ["a/baseline", 100],
        ["b/baseline", 900],
      ]),
    );
    recordDurations("vm:6.1/kvm", new Map([["c/baseline", 50]]));
    recordDurations("docker", new Map([["a/baseline", 5]]));
    const last = readDurations("vm:6.1/tcg");
    expect(Object.fromEntries(last)).toEqual({
      "a/baseline": 100,
      "b/baseline": 900,
      "c/baseline": 50,
    });
    const order = longestFirst(["a/baseline", "c/baseline", "new/x", "b/baseline"], (x) => x, last);
    expect(order).toEqual(["new/x", "b/baseline", "a/baseline", "c/baseline"]);
    expect(readDurations("docker").get("a/baseline")).toBe(5);
  });
});
