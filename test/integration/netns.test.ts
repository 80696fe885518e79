/**
 * The netns runtime on the real kernel: the standard topology's addresses and routes, traffic
 * between its namespaces (and none where Docker would have none), counters read through the
 * anchor, the host's own namespace untouched, the time up and down, and a teardown — or a
 * `clean` after the owner died — that leaves no namespace, process or state file.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { connectArgv, serveArgv, type AgentLine } from "../../src/agent/protocol.js";
import { localExecutor } from "../../src/runtime/netns/host.js";
import {
  listNamespaces as listOn,
  pidsIn as pidsOn,
  processState as stateOn,
} from "../../src/runtime/netns/ip.js";

const listNamespaces = () => listOn(localExecutor);
const pidsIn = (names: string[]) => pidsOn(localExecutor, names);
const processState = (pid: number) => stateOn(localExecutor, pid);
import { NetnsRuntime } from "../../src/runtime/netns/netns-runtime.js";
import { AGENT_BINARY } from "../../src/runtime/shared/agent.js";
import { statePath } from "../../src/runtime/netns/state.js";
import type { StartedNode, TopologyPlan } from "../../src/runtime/runtime.js";

const WIDE_PORTS = { "net.ipv4.ip_local_port_range": "1024 65535" };

/** bench/bench.ts's standard topology: two networks, a gateway, two clients, a server. */
function standardPlan(runId: string): TopologyPlan {
  return {
    runId,
    networks: [{ name: "lan" }, { name: "wan" }],
    nodes: [
      {
        name: "gw",
        networks: ["lan", "wan"],
        sysctls: { "net.ipv4.ip_forward": "1", ...WIDE_PORTS },
      },
      { name: "client.1", networks: ["lan"], sysctls: WIDE_PORTS },
      { name: "client.2", networks: ["lan"], sysctls: {} },
      { name: "server", networks: ["wan"], sysctls: {} },
    ],
  };
}

/**
 * The host namespace's links, less those a Docker engine on the same host makes and removes
 * meanwhile (other runs, other tests): `br-<12 hex>` and `veth<7 hex>`. The netns runtime's own
 * names (`br0`, `n0e0`, `eth0`) match neither, so a leak of ours still shows.
 */
function hostLinks(): string[] {
  return spawnSync("ip", ["-o", "link"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l !== "" && !/^\d+: (br-[0-9a-f]{12}|veth[0-9a-f]{7})[:@]/.test(l))
    .sort();
}

/** Per-mount options of the host's / ("rw,relatime"): a node's read-only view must not reach it. */
function hostRootOptions(): string {
  const line = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  return line!.split(" ")[5]!;
}

function hostSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ["/proc/sys/net/ipv4", "/proc/sys/net/core"]) {
    for (const name of readdirSync(dir)) {
      try {
        if (statSync(join(dir, name)).isFile()) out[name] = readFileSync(join(dir, name), "utf8");
      } catch {
        // write-only entries (route/flush) are not settings
      }
    }
  }
  return out;
}

const runNamespaces = async (runId: string) =>
  (await listNamespaces()).filter((n) => n.startsWith(`tcprepro-${runId}-`));

async function serve(node: StartedNode, port: number) {
  const proc = await node.spawn(
    serveArgv({
      port,
      backlog: 16,
      accept: "normal",
      reply: true,
      closeFirst: false,
      resetOnClose: false,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    proc.onLine((line) => (line.includes('"listening"') ? resolve() : undefined));
    void proc.exited.then((code) => reject(new Error(`serve exited ${code}: ${proc.stderr()}`)));
  });
  return proc;
}

/** Outcomes of `connections` attempts from `node` to host:port, by the agent's own report. */
async function connect(node: StartedNode, host: string, port: number, connections = 3) {
  const { stdout } = await node.exec(
    connectArgv({
      host,
      port,
      connections,
      concurrency: connections,
      rate: 0,
      connectTimeoutMs: 1_000,
      payloadBytes: 16,
      expectReply: true,
      replyTimeoutMs: 1_000,
      holdMs: 0,
      close: "client",
      maxMs: 5_000,
    }),
  );
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AgentLine)
    .flatMap((m) => (m.ev === "attempt" ? [m.outcome] : []));
}

describe.skipIf(process.getuid?.() !== 0)("netns runtime", () => {
  const runtime = new NetnsRuntime();
  beforeAll(async () => {
    await runtime.prepare(() => undefined);
  });

  it("builds the standard topology between its own namespaces and removes all of it", async () => {
    const runId = `nt${process.pid}`;
    const linksBefore = hostLinks();
    const sysctlsBefore = hostSysctls();

    const t0 = performance.now();
    const topo = await runtime.up(standardPlan(runId));
    const upMs = performance.now() - t0;
    const pids = await pidsIn(await runNamespaces(runId));
    try {
      expect(await runNamespaces(runId)).toHaveLength(5); // four nodes and the switch
      expect(existsSync(statePath(runId))).toBe(true);
      for (const [name, node] of topo.nodes) {
        const addrs = (await node.exec(["ip", "-4", "-o", "addr", "show"])).stdout;
        for (const [net, address] of Object.entries(node.addresses)) {
          expect(addrs, `${name} on ${net}`).toContain(`${address}/24`);
          expect(address.startsWith(topo.subnets[net]!.split(".").slice(0, 3).join("."))).toBe(
            true,
          );
        }
        expect(addrs).toContain("127.0.0.1/8"); // lo is up
        const routes = (await node.exec(["ip", "-4", "route", "show"])).stdout;
        expect(routes, name).not.toMatch(/default/);
      }
      const gw = topo.nodes.get("gw")!;
      const server = topo.nodes.get("server")!;
      const client = topo.nodes.get("client.1")!;
      expect(
        (await gw.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).stdout.trim(),
        "the gateway's own setting",
      ).toBe("1");
      // Nothing reached the host: no link, no sysctl.
      expect(hostLinks()).toEqual(linksBefore);
      expect(hostSysctls()).toEqual(sysctlsBefore);

      // The gateway reaches the server, the clients the gateway — and a client cannot reach the
      // server past the gateway on its own: no route, as on Docker's internal networks.
      await serve(server, 8080);
      await serve(gw, 9000);
      expect(await connect(gw, server.addresses.wan!, 8080)).toEqual(Array(3).fill("connected"));
      for (const c of ["client.1", "client.2"])
        expect(await connect(topo.nodes.get(c)!, gw.addresses.lan!, 9000)).toEqual(
          Array(3).fill("connected"),
        );
      expect(await connect(client, server.addresses.wan!, 8080, 1)).toEqual(["ENETUNREACH"]);

      // Counters of the namespace, not the host's: the gateway's own connections show.
      const netstat = await gw.readProcNet("netstat");
      expect(netstat).toMatch(/^TcpExt:/m);
      const snmp = (await gw.readProcNet("snmp"))!;
      const tcp = snmp.split("\n").filter((l) => l.startsWith("Tcp:"));
      const activeOpens = Number(tcp[1]!.split(/\s+/)[tcp[0]!.split(/\s+/).indexOf("ActiveOpens")]);
      expect(activeOpens).toBe(3);
      expect(await gw.readProcNet("no-such-file")).toBeUndefined();

      // pause stops every process of the node; unpause resumes them.
      await server.pause();
      const serverPids = await pidsIn([`tcprepro-${runId}-server`]);
      expect((await Promise.all(serverPids.map(processState))).every((s) => s === "T")).toBe(true);
      await server.unpause();
      expect((await Promise.all(serverPids.map(processState))).some((s) => s === "T")).toBe(false);
    } finally {
      const t1 = performance.now();
      await topo.down();
      const downMs = performance.now() - t1;
      console.log(
        `netns standard topology: up ${upMs.toFixed(1)} ms, down ${downMs.toFixed(1)} ms`,
      );
      expect(upMs + downMs).toBeLessThan(1_000); // the target is 300 ms; margin for a loaded CI
    }
    expect(await runNamespaces(runId)).toEqual([]);
    expect(pids.length).toBeGreaterThanOrEqual(4); // the anchors, at least
    const states = await Promise.all(pids.map(processState));
    expect(states.filter((s) => s !== undefined && s !== "Z")).toEqual([]);
    expect(existsSync(statePath(runId))).toBe(false);
    expect(hostLinks()).toEqual(linksBefore);
    await topo.down(); // twice is fine
  });

  it("a node sees the host's files read-only, has its own /tmp, /run, /dev, and no CAP_SYS_ADMIN", async () => {
    const runId = `ntfs${process.pid}`;
    const probe = `tcprepro-netns-probe-${process.pid}`;
    const rootBefore = hostRootOptions();
    const topo = await runtime.up({
      runId,
      networks: [{ name: "lan" }],
      nodes: [
        { name: "a", networks: ["lan"], sysctls: {} },
        { name: "b", networks: ["lan"], sysctls: {} },
      ],
    });
    try {
      const a = topo.nodes.get("a")!;
      const b = topo.nodes.get("b")!;
      // Its own /tmp: the write succeeds there, and neither the host nor the other node sees it.
      await a.exec(["sh", "-c", `echo from-a > /tmp/${probe}`]);
      expect((await a.readFile(`/tmp/${probe}`))?.toString()).toBe("from-a\n");
      expect(existsSync(`/tmp/${probe}`)).toBe(false);
      expect(await b.readFile(`/tmp/${probe}`)).toBeUndefined();
      // The host's files: read-only, through every mount (a remount needs CAP_SYS_ADMIN).
      for (const path of [
        `/etc/${probe}`,
        `/root/${probe}`,
        `/var/lib/${probe}`,
        "/proc/sys/kernel/domainname",
      ])
        await expect(a.exec(["sh", "-c", `echo x > ${path}`]), path).rejects.toThrow(
          /Read-only file system/,
        );
      await expect(a.exec(["mount", "-o", "remount,rw", "/"])).rejects.toThrow(
        /permission denied|not permitted/i,
      );
      await expect(a.exec(["mknod", "/tmp/disk", "b", "8", "0"])).rejects.toThrow(/not permitted/);
      // What it needs works: /dev/null, /run (iptables' xtables lock), the host's tools.
      await a.exec(["sh", "-c", "echo x > /dev/null && : > /run/xtables.lock && ls /dev/shm"]);
      await a.exec(["iptables", "-w", "-L", "-n"]);
      // /sys is the namespace's own: its eth0, read-only.
      expect((await a.exec(["ls", "/sys/class/net"])).stdout).toMatch(/eth0/);
      const caps = (await a.exec(["grep", "CapEff", "/proc/self/status"])).stdout;
      expect((BigInt(`0x${caps.split(/\s+/)[1]}`) >> 21n) & 1n, "CAP_SYS_ADMIN").toBe(0n);
    } finally {
      await topo.down();
    }
    for (const path of [`/tmp/${probe}`, `/etc/${probe}`, `/root/${probe}`, `/var/lib/${probe}`])
      expect(existsSync(path), path).toBe(false);
    // The read-only remount was the node's alone: the host's / is as it was.
    expect(hostRootOptions()).toBe(rootBefore);
  });

  it("a checkout under /tmp: the agent stays at its path inside the node's own /tmp", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcprepro-agent-in-tmp-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const agentBinary = join(dir, "tcprepro-agent");
    copyFileSync(AGENT_BINARY, agentBinary);
    const inTmp = new NetnsRuntime({ host: { exec: localExecutor, agentBinary, state: true } });
    // The anchor is up only once its process runs the agent from that path, inside the node.
    const topo = await inTmp.up({
      runId: `nttmp${process.pid}`,
      networks: [{ name: "lan" }],
      nodes: [{ name: "a", networks: ["lan"], sysctls: {} }],
    });
    try {
      await topo.nodes.get("a")!.exec(["test", "-x", agentBinary]);
    } finally {
      await topo.down();
    }
  });

  it("clean removes a run whose owner is dead and leaves a live one", async () => {
    const dead = `ntdead${process.pid}`;
    const live = `ntlive${process.pid}`;
    const plan = (runId: string): TopologyPlan => ({
      runId,
      networks: [{ name: "lan" }],
      nodes: [{ name: "a", networks: ["lan"], sysctls: {} }],
    });
    await runtime.up(plan(dead));
    const liveTopo = await runtime.up(plan(live));
    try {
      // The owner of `dead` was SIGKILLed: its state file names a PID that no longer runs.
      const gone = spawnSync("true").pid;
      const state = JSON.parse(readFileSync(statePath(dead), "utf8")) as { subnets: object };
      writeFileSync(statePath(dead), JSON.stringify({ ...state, pid: gone, host: hostname() }));
      const pids = await pidsIn(await runNamespaces(dead));
      const result = await runtime.clean({ all: false });
      expect(result.nodes).toBeGreaterThanOrEqual(1);
      expect(await runNamespaces(dead)).toEqual([]);
      expect(existsSync(statePath(dead))).toBe(false);
      const states = await Promise.all(pids.map(processState));
      expect(states.filter((s) => s !== undefined && s !== "Z")).toEqual([]);
      expect(await runNamespaces(live)).toHaveLength(2);
    } finally {
      await liveTopo.down();
      await runtime.remove(dead);
    }
    expect(await runNamespaces(live)).toEqual([]);
  });

  it("a sysctl that cannot be set names the node and the key, and leaves nothing", async () => {
    const runId = `ntbad${process.pid}`;
    await expect(
      runtime.up({
        runId,
        networks: [{ name: "lan" }],
        nodes: [{ name: "a", networks: ["lan"], sysctls: { "net.ipv4.no_such_key": "1" } }],
      }),
    ).rejects.toThrow(/node a: sysctl net\.ipv4\.no_such_key/);
    expect(await runNamespaces(runId)).toEqual([]);
    expect(existsSync(statePath(runId))).toBe(false);
  });
});
