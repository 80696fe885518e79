/**
 * Docker nodes wired by tcprepro instead of the engine (issue 24). The engine's container start
 * with a network costs ~200 ms more per container than with `--network none` (its network
 * sandbox, endpoint and iptables work, much of it serialised); the netns runtime wires the same
 * topology itself in ~55 ms. So containers start with NetworkMode none and get, as the netns
 * runtime's nodes do, one veth per network whose far end is enslaved to that network's bridge in
 * a switch namespace the run owns. The host's namespace gets nothing — no bridge, no veth, no
 * address — and the nodes have only their subnets' routes: no route out of the topology.
 *
 * The switch is a named namespace, `tcprepro.docker-<runId>` (a dot, not the netns runtime's
 * `tcprepro-`, so that runtime's clean never judges it). It carries no labels: it is created
 * after the run's labelled containers, so a switch whose run has no container left is an orphan
 * (a run SIGKILLed mid-teardown) and `clean` removes it. Deleting it takes its bridges and every
 * veth pair with it, also the ends inside containers another party started (`container:`).
 */
import { existsSync } from "node:fs";
import { hostname, release } from "node:os";
import { ExecError } from "../../util/errors.js";
import { localExecutor, runOn } from "../netns/host.js";
import { ipBatch, NETNS_DIR } from "../netns/ip.js";

export const SWITCH_PREFIX = "tcprepro.docker-";

/** How a run's containers get their networks. */
export type Wiring = "veth" | "engine";

export function switchName(runId: string): string {
  return `${SWITCH_PREFIX}${runId}`;
}

/** Run ids of every Docker switch namespace on this host. */
export async function switchRunIds(): Promise<string[]> {
  return (await localExecutor.readdir(NETNS_DIR))
    .filter((n) => n.startsWith(SWITCH_PREFIX))
    .map((n) => n.slice(SWITCH_PREFIX.length));
}

/**
 * Veth wiring needs the engine on this kernel (its containers' PIDs are ours to enter), root
 * (or the capabilities `ip netns` and nsenter need), and iproute2's `ip` and util-linux's
 * nsenter. `TCPREPRO_DOCKER_WIRING=engine|veth` forces one; otherwise veth where it can.
 */
export function chooseWiring(
  engine: { KernelVersion?: string; Name?: string },
  forced = process.env.TCPREPRO_DOCKER_WIRING,
): { wiring: Wiring; why?: string } {
  if (forced === "engine") return { wiring: "engine", why: "TCPREPRO_DOCKER_WIRING=engine" };
  const why =
    engine.KernelVersion !== release() || engine.Name !== hostname()
      ? "the engine runs on another kernel"
      : process.getuid?.() !== 0
        ? "not root"
        : !onPath("ip") || !onPath("nsenter")
          ? "ip or nsenter missing"
          : undefined;
  if (forced === "veth" && why)
    throw new Error(`TCPREPRO_DOCKER_WIRING=veth, but ${why}: unset it to let the engine wire`);
  return why ? { wiring: "engine", why } : { wiring: "veth" };
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .some((dir) => dir !== "" && existsSync(`${dir}/${tool}`));
}

/** The run's switch: one bridge per network (`br0`, `br1`, … in network order), all up. */
export async function createSwitch(runId: string, networks: number): Promise<void> {
  const sw = switchName(runId);
  await ipBatch(localExecutor, [`netns add ${sw}`]);
  const bridges = Array.from({ length: networks }, (_, j) => `br${j}`);
  await ipBatch(
    localExecutor,
    [...bridges.map((b) => `link add ${b} type bridge`), ...bridges.map((b) => `link set ${b} up`)],
    { netns: sw },
  );
}

export interface Port {
  /** Index of the network (its bridge `br<j>`). */
  network: number;
  /** Interface name inside the container (`eth0`, …). */
  device: string;
  /** IPv4 address on that network (a /24), when it carries IPv4. */
  address?: string;
  /** IPv6 address on that network (a /64), when it carries IPv6. */
  address6?: string;
}

/**
 * Plug a started container (its first process's host PID) into the switch: a veth per network
 * created directly in both namespaces (no transient end in the host's), the far end enslaved to
 * the bridge, the near end addressed and up.
 */
export async function plug(
  runId: string,
  pid: number,
  node: number,
  ports: Port[],
  nodeName: string,
  sysctls: Record<string, string> = {},
): Promise<void> {
  if (ports.length === 0) return;
  const sw = switchName(runId);
  const peer = (p: Port) => `n${node}e${p.network}`;
  await ipBatch(
    localExecutor,
    ports.map(
      (p) => `link add ${p.device} netns ${pid} type veth peer name ${peer(p)} netns ${sw}`,
    ),
  );
  // nodad: an IPv6 address usable at once, without duplicate address detection's second of
  // "tentative" (during which connect() from it or to it fails).
  const inside = ports.flatMap((p) => [
    ...(p.address ? [`addr add ${p.address}/24 dev ${p.device}`] : []),
    ...(p.address6 ? [`addr add ${p.address6}/64 dev ${p.device} nodad`] : []),
    `link set ${p.device} up`,
  ]);
  // Sysctls of the interfaces just made (the engine never saw them): after the addresses.
  const settings = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
  const argv = [
    "nsenter",
    "-t",
    String(pid),
    "-n",
    ...(settings.length > 0
      ? ["sh", "-c", 'ip -batch - && exec sysctl -q -w "$@"', "sh", ...settings]
      : ["ip", "-batch", "-"]),
  ];
  const [r] = await Promise.all([
    runOn(localExecutor, argv, inside.join("\n") + "\n"),
    ipBatch(
      localExecutor,
      ports.flatMap((p) => [`link set ${peer(p)} master br${p.network}`, `link set ${peer(p)} up`]),
      { netns: sw },
    ),
  ]);
  if (r.code !== 0) throw new ExecError(argv, r.code, r.stderr, nodeName);
}

/** Interface names a container's namespace already has (a joined container's own eth0). */
export async function devicesOf(pid: number): Promise<Set<string>> {
  const dev = (await localExecutor.readFile(`/proc/${pid}/net/dev`))?.toString() ?? "";
  return new Set(
    dev
      .split("\n")
      .slice(2)
      .map((l) => l.split(":")[0]!.trim())
      .filter(Boolean),
  );
}

/** Delete a run's switch (its bridges and every veth pair with it). Returns how many bridges. */
export async function removeSwitch(runId: string): Promise<number> {
  const sw = switchName(runId);
  if (!existsSync(`${NETNS_DIR}/${sw}`)) return 0;
  const listed = await runOn(localExecutor, [
    "ip",
    "-n",
    sw,
    "-o",
    "link",
    "show",
    "type",
    "bridge",
  ]);
  const bridges = listed.stdout.split("\n").filter((l) => l.trim() !== "").length;
  await ipBatch(localExecutor, [`netns delete ${sw}`], { force: true });
  return bridges;
}

/**
 * A node's sysctls split: those the engine sets at the container's start, and those of an
 * interface we add later (`net.ipv4.conf.eth0.rp_filter`), which do not exist at its start.
 */
export function splitSysctls(
  sysctls: Record<string, string>,
  devices: string[],
): { atStart: Record<string, string>; afterPlug: Record<string, string> } {
  const atStart: Record<string, string> = {};
  const afterPlug: Record<string, string> = {};
  for (const [k, v] of Object.entries(sysctls)) {
    const dev = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(k)?.[1];
    (dev && devices.includes(dev) ? afterPlug : atStart)[k] = v;
  }
  return { atStart, afterPlug };
}

/**
 * IPv6 off on the interfaces we add (as the engine leaves a network without IPv6), where the
 * kernel has IPv6; explicitly on for a node with an IPv6 network (`on`).
 */
export function ipv6Off(on = false): Record<string, string> {
  if (!existsSync("/proc/sys/net/ipv6/conf/default/disable_ipv6")) return {};
  return on
    ? { "net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.default.disable_ipv6": "0" }
    : { "net.ipv6.conf.default.disable_ipv6": "1" };
}
