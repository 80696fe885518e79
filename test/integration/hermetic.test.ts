/**
 * Hermetic: every network a run makes is internal (the engine's) or in a namespace of its own
 * (veth wiring), inside the pool, no node has a route out,
 * and the host's own sysctls are the same after a run that sets sysctls in its nodes.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connectDocker, DockerRuntime } from "../../src/runtime/docker/docker-runtime.js";
import { switchName } from "../../src/runtime/docker/wiring.js";
import { overlaps } from "../../src/runtime/subnets.js";
import { bridgesOf, cli, docker } from "./helpers.js";

function hostSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ["/proc/sys/net/ipv4", "/proc/sys/net/core", "/proc/sys/net/netfilter"]) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      try {
        if (!statSync(path).isFile()) continue;
        out[path] = readFileSync(path, "utf8");
      } catch {
        // write-only or unreadable entries (e.g. route/flush) are not settings to compare
      }
    }
  }
  // Levels the kernel moves by itself, not settings.
  delete out["/proc/sys/net/netfilter/nf_conntrack_count"];
  return out;
}

describe("hermetic", () => {
  it("networks are internal, inside 198.18.0.0/15, and no node has a route out", async () => {
    const runtime = new DockerRuntime(await connectDocker());
    await runtime.prepare(() => undefined);
    const topo = await runtime.up({
      runId: `hermetic${process.pid}`,
      networks: [{ name: "lan" }, { name: "wan" }],
      nodes: [
        { name: "gw", networks: ["lan", "wan"], sysctls: { "net.ipv4.ip_forward": "1" } },
        { name: "server", networks: ["wan"], sysctls: {} },
      ],
    });
    try {
      const nets = await docker.listNetworks({
        filters: { label: [`tcprepro.run=hermetic${process.pid}`] },
      });
      if (runtime.wiring?.wiring === "veth") {
        // Our own bridges, in the run's switch namespace: none of the engine's networks, and
        // nothing of the run in the host's namespace (no bridge, no veth end, no address).
        expect(nets).toHaveLength(0);
        expect(bridgesOf(`hermetic${process.pid}`)).toBe(2);
        const hostLinks = spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout;
        expect(hostLinks).not.toMatch(/\bn\d+e\d+\b|\bbr[01]\b/);
        const bridgeAddrs = spawnSync(
          "ip",
          ["-n", switchName(`hermetic${process.pid}`), "-4", "-o", "addr"],
          { encoding: "utf8" },
        ).stdout;
        expect(bridgeAddrs.trim()).toBe("");
        for (const s of Object.values(topo.subnets))
          expect(overlaps("198.18.0.0/15", s), s).toBe(true);
      } else {
        expect(nets).toHaveLength(2);
        for (const n of nets) {
          const info = await docker.getNetwork(n.Id).inspect();
          expect(info.Internal, n.Name).toBe(true);
          const subnets = (info.IPAM?.Config ?? []).map((c) => c.Subnet ?? "");
          expect(subnets).toHaveLength(1);
          for (const s of subnets) expect(overlaps("198.18.0.0/15", s), s).toBe(true);
        }
      }
      for (const node of topo.nodes.values()) {
        const routes = (await node.exec(["ip", "-4", "route"])).stdout;
        expect(routes, node.name).not.toMatch(/^default/m);
        // Every route is one of the topology's own /24s.
        for (const line of routes.trim().split("\n")) {
          const dest = line.split(" ")[0]!;
          expect(Object.values(topo.subnets), line).toContain(dest);
        }
      }
    } finally {
      await topo.down();
    }
    expect(
      await docker.listNetworks({ filters: { label: [`tcprepro.run=hermetic${process.pid}`] } }),
    ).toHaveLength(0);
    expect(bridgesOf(`hermetic${process.pid}`)).toBe(0);
  });

  it("the host's sysctls are unchanged by runs that set sysctls in their nodes", async () => {
    const before = hostSysctls();
    expect(Object.keys(before).length).toBeGreaterThan(50);
    const run = await cli([
      "run",
      "scenarios/somaxconn-caps-backlog.yaml",
      "scenarios/port-exhaustion.yaml",
      "--variant",
      "mitigated",
      "--parallel",
      "2",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const after = hostSysctls();
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
    expect(changed).toEqual([]);
  });
});
