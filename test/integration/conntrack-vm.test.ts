/**
 * A host whose conntrack table is full, on the real 6.1 and 7.2 kernels: nf_conntrack_max is
 * global to the kernel, so the "production host" is a network namespace in a VM tcprepro owns
 * (nf_conntrack_max 64, a server tracked by its own firewall, 100 held connections from a peer).
 * Its /proc is read twice (before and while full) into a tree that `snapshot --proc` turns into
 * snapshots — the guest has no Node; `diagnose` must name conntrack-table-full, not a collision;
 * `scenario new --from` writes a scenario on the host's max; `run` reproduces it on the kernel.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectArgv, serveArgv } from "../../src/agent/protocol.js";
import type { HostDiagnosis } from "../../src/diagnosis/index.js";
import { parseConntrackStat } from "../../src/evidence/proc.js";
import type { StartedNode } from "../../src/runtime/runtime.js";
import { readSnapshot } from "../../src/snapshot/snapshot.js";
import { waitFor } from "../../src/util/time.js";
import { VmRuntime } from "../../src/vm/vm-runtime.js";
import type { RunReport } from "../../src/verdict/result.js";
import { cli } from "./helpers.js";

const KERNELS = ["6.1", "7.2"];
const MAX = 64;
const dir = mkdtempSync(join(tmpdir(), "tcprepro-ct-vm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROC_FILES = [
  "/proc/sys/kernel/osrelease",
  "/proc/sys/kernel/hostname",
  "/proc/net/netstat",
  "/proc/net/snmp",
  "/proc/net/stat/nf_conntrack",
  "/proc/net/tcp",
  "/proc/net/tcp6",
  "/proc/sys/net/ipv4/tcp_*",
  "/proc/sys/net/core/somaxconn",
  "/proc/sys/net/ipv4/ip_local_port_range",
  "/proc/sys/net/netfilter/nf_conntrack_max",
  "/proc/sys/net/netfilter/nf_conntrack_count",
  "/proc/sys/net/netfilter/nf_conntrack_buckets",
];

/** The node's /proc files a snapshot reads, copied into `to` (a tree like /proc). */
async function copyProc(node: StartedNode, to: string): Promise<void> {
  const script = `for f in ${PROC_FILES.join(" ")}; do [ -r "$f" ] && { echo "@@@ $f"; cat "$f" 2>/dev/null; }; done; true`;
  const { stdout } = await node.exec(["sh", "-c", script], 30_000);
  for (const part of stdout.split(/^@@@ /m).slice(1)) {
    const nl = part.indexOf("\n");
    const file = join(to, part.slice(0, nl).replace(/^\/proc\//, ""));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, part.slice(nl + 1));
  }
}

async function snapshotOf(node: StartedNode, name: string): Promise<string> {
  const tree = join(dir, `${name}-proc`);
  await copyProc(node, tree);
  // The guest kernel's log, as `dmesg` in it prints it.
  const log = join(dir, `${name}.dmesg`);
  writeFileSync(log, (await node.exec(["dmesg"], 30_000)).stdout);
  const file = join(dir, `${name}.json`);
  const r = await cli(["snapshot", "--proc", tree, "--kernel-log", log, "-o", file]);
  expect(r.code, r.stderr).toBe(0);
  return file;
}

describe.skipIf(process.getuid?.() !== 0)("a host with its conntrack table full, in VMs", () => {
  it("the catalog's conntrack-table-full passes on 6.1 and 7.2, named from its evidence", async () => {
    const json = join(dir, "catalog.json");
    const run = await cli([
      "run",
      "scenarios/conntrack-table-full.yaml",
      "--kernel",
      KERNELS.join(","),
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const variants = (JSON.parse(readFileSync(json, "utf8")) as RunReport).scenarios[0]!.variants;
    for (const k of KERNELS) {
      const at = (name: string) => variants.find((v) => v.variant === name && v.kernel === k)!;
      const base = at("baseline");
      expect(base.causes.map((c) => c.cause)).toEqual(["conntrack-table-full"]);
      expect(base.nodes["gw"]!.counters["NfConntrackDrop"]).toBeGreaterThan(0);
      expect(base.nodes["gw"]!.counters["NfConntrackInsertFailed"] ?? 0).toBe(0);
      expect(base.dropReasons?.counts?.["NETFILTER_DROP"]).toBeGreaterThan(0);
      expect(at("mitigated").causes.map((c) => c.cause)).toEqual(["none"]);
    }
  });

  for (const k of KERNELS) {
    it(`${k}: snapshots → diagnose names conntrack-table-full → scenario new → run`, async () => {
      const runtime = new VmRuntime({ version: k });
      let before: string, after: string;
      try {
        await runtime.prepare(() => undefined);
        const topo = await runtime.up({
          runId: `ct${k.replace(".", "")}${process.pid}`.slice(0, 12),
          networks: [{ name: "wan" }],
          nodes: [
            { name: "host", networks: ["wan"], sysctls: {} },
            { name: "peer", networks: ["wan"], sysctls: {} },
          ],
          kernelSysctls: { "net.netfilter.nf_conntrack_max": String(MAX) },
        });
        try {
          const host = topo.nodes.get("host")!;
          const peer = topo.nodes.get("peer")!;
          // The host's own firewall tracks its flows: its conntrack holds one entry per connection.
          await host.exec([
            "iptables",
            "-A",
            "INPUT",
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-j",
            "ACCEPT",
          ]);
          const app = await host.spawn(
            serveArgv({
              port: 7443,
              backlog: 512,
              accept: "normal",
              reply: false,
              closeFirst: false,
              resetOnClose: false,
            }),
          );
          await new Promise<void>((resolve, reject) => {
            app.onLine((l) => (l.includes('"listening"') ? resolve() : undefined));
            void app.exited.then((c) => reject(new Error(`serve exited ${c}: ${app.stderr()}`)));
          });
          before = await snapshotOf(host, "before");
          const load = await peer.spawn(
            connectArgv({
              host: host.addresses["wan"]!,
              port: 7443,
              connections: 100,
              concurrency: 100,
              rate: 0,
              connectTimeoutMs: 3_000,
              payloadBytes: 0,
              expectReply: false,
              replyTimeoutMs: 1_000,
              holdMs: 6_000,
              close: "client",
              maxMs: 20_000,
            }),
          );
          await waitFor(
            async () => {
              const ct = parseConntrackStat((await host.readProcNet("stat/nf_conntrack")) ?? "");
              return (ct["NfConntrackDrop"] ?? 0) >= 10 || undefined;
            },
            15_000,
            "the host's conntrack dropping packets",
          );
          after = await snapshotOf(host, "after");
          await load.exited;
        } finally {
          await topo.down();
        }
      } finally {
        await runtime.close();
      }

      const snap = readSnapshot(readFileSync(after, "utf8"), after);
      expect(snap.kernel).toMatch(new RegExp(`^${k.replace(".", "\\.")}\\.`));
      expect(snap.sysctls["net.netfilter.nf_conntrack_max"]).toBe(MAX);
      expect(snap.sysctls["net.netfilter.nf_conntrack_count"]).toBeGreaterThanOrEqual(MAX - 2);

      const diag = await cli(["diagnose", "--before", before, "--after", after, "--json"]);
      expect(diag.code, diag.stderr).toBe(0);
      const d = JSON.parse(diag.stdout) as HostDiagnosis;
      const names = d.causes.map((c) => c.cause);
      expect(names, diag.stdout).toContain("conntrack-table-full");
      expect(names).not.toContain("snat-conntrack-collision");
      const c = d.causes.find((x) => x.cause === "conntrack-table-full")!;
      expect(c.confidence).toBe("strong");
      expect(c.numbers["NfConntrackInsertFailed"]).toBe(0);
      // The kernel said so in its log too (rate-limited: at least once).
      const dmesg = readFileSync(join(dir, "after.dmesg"), "utf8");
      expect(
        snap.kernelLog?.["conntrackTableFull"],
        dmesg
          .split("\n")
          .filter((l) => /conntrack|nf_ct|table/i.test(l))
          .join("\n") || dmesg.slice(-3000),
      ).toBeGreaterThan(0);
      expect(c.because).toMatch(/"nf_conntrack: table full, dropping packet" lines/);

      const gen = join(dir, `gen-${k}.yaml`);
      const made = await cli(["scenario", "new", "--from", after, "-o", gen]);
      expect(made.code, made.stderr).toBe(0);
      expect(readFileSync(gen, "utf8")).toMatch(
        new RegExp(`nf_conntrack_max: ${MAX} # from the snapshot`),
      );
      const json = join(dir, `run-${k}.json`);
      const run = await cli(["run", gen, "--kernel", k, "--json", json]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const variants = (JSON.parse(readFileSync(json, "utf8")) as RunReport).scenarios[0]!.variants;
      const base = variants.find((v) => v.variant === "baseline")!;
      expect(base.causes.map((x) => x.cause)).toContain("conntrack-table-full");
      expect(variants.find((v) => v.variant === "mitigated")!.verdict).toBe("pass");
      process.stderr.write(
        `ROUNDTRIP conntrack ${k}: host count ${String(snap.sysctls["net.netfilter.nf_conntrack_count"])}` +
          ` drop ${c.numbers["NfConntrackDrop"]} log ${snap.kernelLog?.["conntrackTableFull"]}; run ${JSON.stringify(base.clients.outcomes)} ` +
          `gw drop ${base.nodes["gw"]!.counters["NfConntrackDrop"]}\n`,
      );
    });
  }
});
