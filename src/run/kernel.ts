/** What the kernel under test has: sysctls, counters and qdiscs, read once per run. */
import { existsSync, readFileSync } from "node:fs";
import { probeNetem } from "../doctor/netem.js";
import { parseConntrackStat, parseProcNetCounters } from "../evidence/proc.js";
import type { KernelInventory } from "../runtime/runtime.js";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Counter names from a kernel's /proc/net/netstat, /proc/net/snmp and stat/nf_conntrack. */
export function counterNames(netstat: string, snmp: string, conntrack: string): Set<string> {
  return new Set([
    ...Object.keys(parseProcNetCounters(netstat + "\n" + snmp)),
    ...Object.keys(parseConntrackStat(conntrack)),
  ]);
}

/**
 * The host's inventory. With a local engine (or network namespaces) the nodes run on this very
 * kernel; counter and sysctl names are the same in every network namespace.
 */
export function hostInventory(release: string): KernelInventory {
  return {
    release,
    counters: counterNames(
      read("/proc/net/netstat"),
      read("/proc/net/snmp"),
      read("/proc/net/stat/nf_conntrack"),
    ),
    sysctlExists: (name) => existsSync(`/proc/sys/${name.replaceAll(".", "/")}`),
    qdiscs: new Set(probeNetem(release).status === "present" ? ["netem"] : []),
  };
}
