/**
 * Reading evidence out of running nodes: counter snapshots (before/after, and the timeline's
 * samples) read the node's /proc/net files through the runtime without starting a process.
 */
import type { StartedNode } from "../runtime/runtime.js";
import { parseConntrackStat, parseProcNetCounters, parseSnmp6, parseSsListen } from "./proc.js";
import type { Counters, ListenSocket } from "./types.js";

/** Every counter of one node: /proc/net/netstat, /proc/net/snmp, /proc/net/snmp6 (IPv6's IP,
 * ICMP and UDP) and, where the kernel has it, /proc/net/stat/nf_conntrack (the gateway's NAT
 * collisions show there). */
export async function snapshotCounters(node: StartedNode): Promise<Counters> {
  const [netstat, snmp, snmp6, conntrack] = await Promise.all([
    node.readProcNet("netstat"),
    node.readProcNet("snmp"),
    node.readProcNet("snmp6"),
    node.readProcNet("stat/nf_conntrack"),
  ]);
  return {
    ...parseProcNetCounters((netstat ?? "") + "\n" + (snmp ?? "")),
    ...(snmp6 ? parseSnmp6(snmp6) : {}),
    ...(conntrack ? parseConntrackStat(conntrack) : {}),
  };
}

export async function snapshotAll(nodes: Iterable<StartedNode>): Promise<Map<string, Counters>> {
  const list = [...nodes];
  const snaps = await Promise.all(list.map((n) => snapshotCounters(n)));
  return new Map(list.map((n, i) => [n.name, snaps[i]!]));
}

/**
 * The app's listen sockets as `ss -lnt` sees them (one exec, at the end): the queue's limit
 * (Send-Q) is not in /proc/net/tcp. Only the app's ports: Docker's embedded DNS also listens in
 * every container of a user-defined network.
 */
export async function listenSockets(node: StartedNode, ports: number[]): Promise<ListenSocket[]> {
  const ss = await node.exec(["ss", "-lntH"]).catch(() => undefined);
  return ss ? parseSsListen(ss.stdout).filter((l) => ports.includes(l.port)) : [];
}
