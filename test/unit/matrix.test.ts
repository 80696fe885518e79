import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { targetSpecs } from "../../src/engine/targets.js";
import { loadOrder } from "../../src/kernels/initramfs.js";
import { bzPayload, hasPvhEntry } from "../../src/kernels/vmlinux.js";
import { formatMatrix } from "../../src/report/matrix-table.js";
import { inShard, parseShard } from "../../src/engine/shard.js";
import { joinReports, kernelReport } from "../../src/report/merge.js";
import { UsageError } from "../../src/util/errors.js";
import type { RunReport } from "../../src/verdict/result.js";
import { qdiscsOf } from "../../src/vm/vm-runtime.js";
import { variantResult } from "./builders.js";

function report(kernel: string, verdicts: Record<string, "pass" | "fail" | "skip">): RunReport {
  return {
    tool: { name: "tcprepro", version: "0.1.0" },
    kernel,
    runtime: "vm",
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1000,
    scenarios: [
      {
        name: "aq",
        file: "scenarios/aq.yaml",
        summary: "",
        variants: Object.entries(verdicts).map(([variant, verdict]) =>
          variantResult({
            variant,
            verdict,
            reason: verdict === "skip" ? `sysctl x does not exist on kernel ${kernel}` : "ok",
          }),
        ),
      },
    ],
  };
}

describe("shards", () => {
  it("split every (kernel, scenario, variant) into exactly one of n parts, the same each time", () => {
    const triples = ["5.10", "6.1", "7.2", "host"].flatMap((k) =>
      ["a", "b", "c", "d", "e"].flatMap((s) => ["baseline", "mitigated"].map((v) => [k, s, v])),
    );
    for (const [k, s, v] of triples) {
      const hits = [1, 2, 3].filter((i) => inShard({ index: i, count: 3 }, k!, s!, v!));
      expect(hits).toHaveLength(1);
      expect(inShard({ index: hits[0]!, count: 3 }, k!, s!, v!)).toBe(true);
    }
    const sizes = [1, 2, 3].map(
      (i) => triples.filter(([k, s, v]) => inShard({ index: i, count: 3 }, k!, s!, v!)).length,
    );
    expect(Math.min(...sizes)).toBeGreaterThan(0);
  });

  it("parses i/n and rejects the rest", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/2", "3/2", "1", "a/b", "1/0"])
      expect(() => parseShard(bad)).toThrow(UsageError);
  });
});

describe("joining per-kernel reports", () => {
  const joined = joinReports([
    { label: "6.1", report: report("6.1.0-57-amd64", { baseline: "pass", mitigated: "pass" }) },
    { label: "7.2", report: report("7.2.13+deb14-amd64", { baseline: "fail", mitigated: "skip" }) },
  ]);

  it("tags every variant with its kernel and names each kernel's release", () => {
    expect(joined.kernels).toEqual({
      "6.1": { release: "6.1.0-57-amd64", runtime: "vm" },
      "7.2": { release: "7.2.13+deb14-amd64", runtime: "vm" },
    });
    expect(joined.scenarios[0]!.variants.map((v) => `${v.variant}@${v.kernel}`)).toEqual([
      "baseline@6.1",
      "mitigated@6.1",
      "baseline@7.2",
      "mitigated@7.2",
    ]);
  });

  it("gives one kernel back as a plain report, and names the kernels it has otherwise", () => {
    const k = kernelReport(joined, "7.2");
    expect(k.kernel).toBe("7.2.13+deb14-amd64");
    expect(k.scenarios[0]!.variants.map((v) => v.verdict)).toEqual(["fail", "skip"]);
    expect(() => kernelReport(joined, "5.10")).toThrow(/has 6.1, 7.2/);
  });

  it("merges shards (already tagged) into the same report as one run", () => {
    const a = kernelReport(joined, "6.1");
    const b = kernelReport(joined, "7.2");
    const tag = (r: RunReport, label: string): RunReport => ({
      ...r,
      kernels: { [label]: { release: r.kernel, runtime: r.runtime } },
      scenarios: r.scenarios.map((s) => ({
        ...s,
        variants: s.variants.map((v) => ({ ...v, kernel: label })),
      })),
    });
    const merged = joinReports([{ report: tag(b, "7.2") }, { report: tag(a, "6.1") }]);
    const key = (r: RunReport) =>
      r.scenarios
        .flatMap((s) => s.variants.map((v) => `${s.name}/${v.variant}@${v.kernel}=${v.verdict}`))
        .sort();
    expect(key(merged)).toEqual(key(joined));
  });

  it("prints one table: the verdict per kernel, the reason where kernels disagree", () => {
    const text = formatMatrix(joined);
    expect(text).toMatch(/scenario\/variant\s+6\.1\s+7\.2/);
    expect(text).toMatch(
      /aq\/mitigated\s+PASS \(no cause\)\s+SKIP \(sysctl x does not exist on kernel 7\.2/,
    );
  });
});

describe("kernel names", () => {
  it("rejects an unknown version, listing those available", () => {
    expect(() => targetSpecs({ kernels: ["4.9"] })).toThrow(/5\.10, 6\.1, 6\.12, 7\.2/);
    expect(() => targetSpecs({ kernels: ["6.1", "6.1"] })).toThrow(UsageError);
    const labels = targetSpecs({ kernels: ["6.1", "host"] }).specs.map((s) => s.label);
    expect(labels).toEqual(["6.1", "host"]);
    expect(targetSpecs({ runtime: "docker" })).toEqual({
      specs: [{ label: "host" }],
      matrix: false,
    });
  });

  it("an unknown runtime is exit 2 listing the registered ones", () => {
    expect(() => targetSpecs({ runtime: "podman" })).toThrow(
      /runtime "podman" is not registered: choose from docker, netns, vm, auto/,
    );
  });

  it("runtime vm never runs elsewhere: a kernel not fetched fails saying how to fetch it", () => {
    const saved = process.env.TCPREPRO_CACHE;
    const cache = mkdtempSync(join(tmpdir(), "tcprepro-cache-"));
    onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
    process.env.TCPREPRO_CACHE = cache;
    try {
      expect(() => targetSpecs({ runtime: "vm", kernel: "6.12" })).toThrow(
        /kernel 6\.12 is not fetched: run `tcprepro kernels fetch 6\.12` first/,
      );
      expect(() => targetSpecs({ runtime: "vm" })).toThrow(/no kernel fetched yet/);
      // Without `vm`, a kernel of a matrix is fetched when the run needs it.
      expect(targetSpecs({ kernels: ["6.12"] }).specs).toEqual([
        { label: "6.12", kernel: { version: "6.12" } },
      ]);
    } finally {
      if (saved === undefined) delete process.env.TCPREPRO_CACHE;
      else process.env.TCPREPRO_CACHE = saved;
    }
  });
});

describe("a kernel's module tree", () => {
  it("loads each boot module after its dependencies; built-in ones are absent", () => {
    const dep = [
      "kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz",
      "kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz",
      "kernel/net/9p/9pnet.ko.xz:",
      "kernel/fs/netfs/netfs.ko.xz:",
      "kernel/fs/overlayfs/overlay.ko.xz:",
    ].join("\n");
    const order = loadOrder(dep, ["virtio_pci", "9pnet_virtio", "9p", "overlay"]);
    expect(order).toEqual([
      "kernel/net/9p/9pnet.ko.xz",
      "kernel/net/9p/9pnet_virtio.ko.xz",
      "kernel/fs/netfs/netfs.ko.xz",
      "kernel/fs/9p/9p.ko.xz",
      "kernel/fs/overlayfs/overlay.ko.xz",
    ]);
  });

  it("lists the qdiscs it can load", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcprepro-mods-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, "modules.dep"),
      "kernel/net/sched/sch_netem.ko:\nkernel/net/sched/sch_tbf.ko:\n",
    );
    writeFileSync(join(dir, "modules.builtin"), "kernel/net/sched/sch_fq_codel.ko\n");
    expect([...qdiscsOf(dir)].sort()).toEqual(["fq_codel", "netem", "tbf"]);
  });
});

describe("the uncompressed kernel", () => {
  it("finds a bzImage's payload from its header and an ELF's PVH entry note", () => {
    const image = Buffer.alloc(4096);
    image[0x1f1] = 1; // one setup sector: protected-mode code at 1024
    image.write("HdrS", 0x202, "latin1");
    image.writeUInt32LE(16, 0x248);
    image.writeUInt32LE(6, 0x24c);
    image.write("\xfd7zXZ\x00", 1024 + 16, "latin1");
    expect(bzPayload(image)?.toString("latin1")).toBe("\xfd7zXZ\x00");
    expect(bzPayload(Buffer.alloc(4096))).toBeUndefined();
    const note = Buffer.from([4, 0, 0, 0, 8, 0, 0, 0, 0x12, 0, 0, 0, 0x58, 0x65, 0x6e, 0]);
    expect(hasPvhEntry(Buffer.concat([Buffer.alloc(100), note, Buffer.alloc(8)]))).toBe(true);
    note[8] = 0x11; // another Xen note
    expect(hasPvhEntry(Buffer.concat([Buffer.alloc(100), note]))).toBe(false);
  });
});
