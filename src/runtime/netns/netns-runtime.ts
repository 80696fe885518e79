/**
 * The netns runtime: the same topology as the Docker runtime from plain network namespaces, no
 * daemon. One namespace per node, plus a switch namespace holding one Linux bridge per network;
 * each node has a veth per network (eth0, eth1, … in network order), the far end enslaved to
 * the network's bridge. The host's own namespace gets nothing — no bridge, no veth, no sysctl —
 * and nothing joins the switch to it, so there is no route out of the topology.
 *
 * Names carry the run id (`tcprepro-<runId>-…`) and a state file records the owner, so that a
 * teardown, or `tcprepro clean` after a SIGKILL, finds everything without a list in memory.
 */
import { existsSync, readFileSync } from "node:fs";
import { sumClean } from "../shared/clean.js";
import { hostInventory } from "../shared/host-inventory.js";
import { ownerIsAlive } from "../shared/liveness.js";
import { SweptTopology } from "../shared/topology.js";
import { RuntimeUnavailableError } from "../../util/errors.js";
import { waitFor } from "../../util/time.js";
import { AGENT_BINARY, buildAgent } from "../shared/agent.js";
import type {
  CleanResult,
  KernelInventory,
  Runtime,
  RuntimeCapabilities,
  StartedTopology,
  TopologyPlan,
} from "../runtime.js";
import { allocateSubnets } from "../allocate.js";
import { hostAddress } from "../subnets.js";
import { hostAddress6 } from "../subnets6.js";
import {
  ipBatch,
  listNamespaces,
  nodeNamespace,
  PREFIX,
  pidsIn,
  processState,
  signalAll,
  switchNamespace,
} from "./ip.js";
import { startAnchor } from "./anchor.js";
import { type HostExecutor, localExecutor } from "./host.js";
import { NetnsNode } from "./netns-node.js";
import { readState, removeState, stateRunIds, usedSubnets, writeState } from "./state.js";

/** First host number given to nodes in each /24, as on Docker (.1 is left free). */
const FIRST_HOST = 10;
/** How long teardown waits for killed processes to be gone before deleting the namespaces. */
const KILL_WAIT_MS = 3_000;

/** A node that asks for a container image: namespaces run host binaries only. */
import { ImageUnsupportedError } from "../../model/errors.js";
export { ImageUnsupportedError };

export interface NetnsRuntimeOptions {
  /** Address pool for the networks' /24s. @default 198.18.0.0/15 (or TCPREPRO_POOL) */
  pool?: string;
  /** Address pool for the IPv6 networks' /64s. @default 2001:2::/48 (or TCPREPRO_POOL6) */
  pool6?: string;
  /** Where the namespaces are made. @default this machine */
  host?: NetnsHost;
}

/** The kernel the namespaces are made on, and how to reach it. */
export interface NetnsHost {
  exec: HostExecutor;
  /** The agent binary's path there. */
  agentBinary: string;
  /** Keep state files under /run/tcprepro (on this machine; a VM's kernel dies with its run). */
  state: boolean;
  /**
   * Each node in its own mount namespace, the host's files read-only, with bounded capabilities
   * (sandbox.ts). Off only where something else already keeps the host's files out of reach: a
   * VM's guest sees them read-only over 9p, and there every extra exec costs ~10 times as much.
   * @default true
   */
  isolateNodes?: boolean;
}

const LOCAL: NetnsHost = { exec: localExecutor, agentBinary: AGENT_BINARY, state: true };

/** Host tools scenarios run inside nodes; a missing one fails only the steps that use it. */
const NODE_TOOLS = ["iptables", "ss", "tcpdump", "hping3", "sysctl"];

const NO_IMAGES = "the netns runtime runs no container images (use --runtime docker)";

export class NetnsRuntime implements Runtime {
  readonly name = "netns";
  readonly capabilities: RuntimeCapabilities = {
    userImages: { reason: NO_IMAGES },
    // No cgroup per node: `pause` stops the node's processes with SIGSTOP.
    pause: "sigstop",
    // The nodes run on this host's kernel, whose tracefs sees every namespace's drops.
    dropReasons: true,
    ownsKernel: false,
    maxParallel: 16,
  };
  private inventoryRead: Promise<KernelInventory> | undefined;

  constructor(private readonly options: NetnsRuntimeOptions = {}) {}

  inventory(): Promise<KernelInventory> {
    return (this.inventoryRead ??= Promise.resolve(hostInventory()));
  }

  execCommand(runId: string, node: string): string[] {
    return ["ip", "netns", "exec", nodeNamespace(runId, node)];
  }

  /** Nothing to release: the engine and the host stay as they are. */
  async close(): Promise<void> {}

  async prepare(progress: (message: string) => void): Promise<void> {
    if (process.getuid?.() !== 0 && !hasNetnsCapabilities())
      throw new RuntimeUnavailableError(
        "the netns runtime needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN): run with sudo, or use --runtime docker",
      );
    if (!onPath("ip"))
      throw new RuntimeUnavailableError(
        "the netns runtime needs iproute2's `ip`: `sudo npx tcprepro setup` installs it (or apt-get install -y iproute2)",
      );
    // A node's processes are entered with nsenter under setpriv's capability bound (sandbox.ts).
    if (!onPath("nsenter") || !onPath("setpriv"))
      throw new RuntimeUnavailableError(
        "the netns runtime needs util-linux's nsenter and setpriv: apt-get install -y util-linux",
      );
    const missing = NODE_TOOLS.filter((tool) => !onPath(tool));
    if (missing.length > 0)
      progress(
        `the host lacks ${missing.join(", ")} (nodes use the host's tools): steps that need them will fail; apt-get install -y ${missing.join(" ")}`,
      );
    await buildAgent(progress);
  }

  async up(plan: TopologyPlan): Promise<StartedTopology> {
    const withImage = plan.nodes.find((n) => n.image);
    if (withImage)
      throw new ImageUnsupportedError(
        `node ${withImage.name} runs image ${withImage.image}: ${NO_IMAGES}`,
      );
    const host = this.options.host ?? LOCAL;
    const topology = new SweptTopology(plan.runId, (id) => removeRun(id, undefined, host));
    try {
      await build(plan, topology, host, this.options.pool, this.options.pool6);
      return topology;
    } catch (err) {
      await topology.down();
      throw err;
    }
  }

  async remove(runId: string): Promise<void> {
    await removeRun(runId, undefined, this.options.host);
  }

  async clean({ all }: { all: boolean }): Promise<CleanResult> {
    const names = await listNamespaces(localExecutor);
    const known = stateRunIds();
    const runs = new Set(known);
    for (const n of names) runs.add(runIdOf(n, known));
    const removed: CleanResult[] = [];
    for (const runId of runs) {
      const state = readState(runId);
      // No state file (or an unreadable one): nobody owns the run, it is dead.
      if (!all && state && ownerIsAlive(state)) continue;
      removed.push(await removeRun(runId, names));
    }
    return sumClean(removed);
  }
}

/**
 * The run a namespace belongs to: the longest run id with a state file that prefixes it, or
 * else the first dash-separated word (what `newRunId` makes: hex, no dash).
 */
function runIdOf(name: string, known: string[]): string {
  const rest = name.slice(PREFIX.length);
  const match = known
    .filter((id) => rest.startsWith(`${id}-`))
    .sort((a, b) => b.length - a.length)[0];
  return match ?? rest.split("-")[0]!;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .some((dir) => dir !== "" && existsSync(`${dir}/${tool}`));
}

/** CapEff has CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21): `ip netns add` needs both. */
function hasNetnsCapabilities(): boolean {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
    if (!hex) return false;
    const caps = BigInt(`0x${hex}`);
    return ((caps >> 12n) & 1n) === 1n && ((caps >> 21n) & 1n) === 1n;
  } catch {
    return false;
  }
}

async function build(
  plan: TopologyPlan,
  topology: SweptTopology,
  host: NetnsHost,
  pool?: string,
  poolV6?: string,
): Promise<void> {
  const { runId } = plan;
  const { exec } = host;
  const used = host.state ? usedSubnets() : [];
  const { subnets: v4, subnets6 } = allocateSubnets(plan.networks, used, {
    pool,
    pool6: poolV6,
  });
  Object.assign(topology.subnets, v4);
  if (Object.keys(subnets6).length > 0) topology.subnets6 = subnets6;
  // The state file first: whatever exists after this line, `clean` can find and judge.
  if (host.state)
    await writeState(runId, {
      ...topology.subnets,
      ...Object.fromEntries(Object.entries(subnets6).map(([k, v]) => [`${k}/ipv6`, v])),
    });

  const sw = switchNamespace(runId);
  const netIndex = new Map(plan.networks.map((n, j) => [n.name, j]));
  const nodes = plan.nodes.map((node, i) => {
    const addresses: Record<string, string> = {};
    const addresses6: Record<string, string> = {};
    for (const net of node.networks) {
      if (topology.subnets[net])
        addresses[net] = hostAddress(topology.subnets[net], FIRST_HOST + i);
      if (subnets6[net]) addresses6[net] = hostAddress6(subnets6[net], FIRST_HOST + i);
    }
    return { plan: node, ns: nodeNamespace(runId, node.name), addresses, addresses6, i };
  });

  // 1. One `ip` for every namespace and link. Each link is created directly in its namespace
  //    (IFLA_NET_NS_FD), so not even a transient veth appears in the host's.
  const links: string[] = [`netns add ${sw}`];
  for (const n of nodes) links.push(`netns add ${n.ns}`);
  plan.networks.forEach((_, j) => links.push(`link add br${j} netns ${sw} type bridge`));
  for (const n of nodes)
    n.plan.networks.forEach((net, k) =>
      links.push(
        `link add eth${k} netns ${n.ns} type veth peer name n${n.i}e${netIndex.get(net)} netns ${sw}`,
      ),
    );
  await ipBatch(exec, links);

  // 2. In parallel: wire the switch, address each node, apply its sysctls, start its anchor.
  const switchLines = plan.networks.map((_, j) => `link set br${j} up`);
  for (const n of nodes)
    for (const net of n.plan.networks) {
      const port = `n${n.i}e${netIndex.get(net)}`;
      switchLines.push(`link set ${port} master br${netIndex.get(net)}`, `link set ${port} up`);
    }
  await Promise.all([
    ipBatch(exec, switchLines, { netns: sw }),
    ...nodes.map(async (n) => {
      const lines = ["link set lo up"];
      n.plan.networks.forEach((net, k) => {
        if (n.addresses[net]) lines.push(`addr add ${n.addresses[net]}/24 dev eth${k}`);
        // nodad: usable at once, no duplicate address detection (a second, and an address
        // that is "tentative" meanwhile: connect() to it or from it fails).
        if (n.addresses6[net]) lines.push(`addr add ${n.addresses6[net]}/64 dev eth${k} nodad`);
        lines.push(`link set eth${k} up`);
      });
      const ipv6 = Object.keys(n.addresses6).length > 0;
      const anchor = await startAnchor({
        node: n.plan.name,
        namespace: n.ns,
        links: lines,
        // IPv6 off on a node with no IPv6 network, as Docker leaves it on a network without
        // IPv6: no router solicitations or DAD in the captures. Only net.* keys are per
        // namespace, and that is what scenarios set.
        sysctls: { ...(ipv6 ? {} : { "net.ipv6.conf.all.disable_ipv6": "1" }), ...n.plan.sysctls },
        agentBinary: host.agentBinary,
        isolate: host.isolateNodes !== false,
        exec,
      });
      topology.nodes.set(
        n.plan.name,
        new NetnsNode(
          n.plan.name,
          n.addresses,
          ipv6 ? n.addresses6 : undefined,
          n.ns,
          anchor,
          host.agentBinary,
          exec,
          host.isolateNodes !== false,
        ),
      );
    }),
  ]);
}

/**
 * Remove everything of a run: kill every process in its namespaces (SIGKILL works on stopped
 * ones too), wait until they are gone, delete the namespaces — the switch's deletion takes the
 * bridges and the veths with it — and the state file. Idempotent.
 */
export async function removeRun(
  runId: string,
  names?: string[],
  host: NetnsHost = LOCAL,
): Promise<CleanResult> {
  const { exec } = host;
  const ours = (names ?? (await listNamespaces(exec))).filter((n) =>
    n.startsWith(`${PREFIX}${runId}-`),
  );
  const networks = Object.keys(readState(runId)?.subnets ?? {}).length;
  if (ours.length > 0) {
    const pids = await pidsIn(exec, ours);
    await signalAll(exec, pids, "SIGKILL");
    await waitFor(
      async () => {
        const states = await Promise.all(pids.map((p) => processState(exec, p)));
        // A zombie has already left its namespaces.
        return states.every((s) => s === undefined || s === "Z") ? true : undefined;
      },
      KILL_WAIT_MS * exec.slowdown,
      `run ${runId}: processes gone`,
      2,
    ).catch(() => undefined);
    await ipBatch(
      exec,
      ours.map((n) => `netns delete ${n}`),
      { force: true },
    );
  }
  if (host.state) await removeState(runId);
  const sw = switchNamespace(runId);
  return {
    nodes: ours.filter((n) => n !== sw).length,
    networks: ours.includes(sw) ? networks : 0,
    other: 0,
  };
}
