/** What the kernel under test has: sysctls and counters, read once per run. */
import { existsSync, readFileSync } from "node:fs";
import { parseConntrackStat, parseProcNetCounters } from "../evidence/proc.js";
import type { KernelInventory } from "../verdict/requires.js";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * The host's inventory. With a local engine (or network namespaces) the nodes run on this very
 * kernel; counter and sysctl names are the same in every network namespace.
 */
export function hostInventory(release: string): KernelInventory {
  const counters = new Set([
    ...Object.keys(parseProcNetCounters(read("/proc/net/netstat") + "\n" + read("/proc/net/snmp"))),
    ...Object.keys(parseConntrackStat(read("/proc/net/stat/nf_conntrack"))),
  ]);
  return {
    release,
    counters,
    sysctlExists: (name) => existsSync(`/proc/sys/${name.replaceAll(".", "/")}`),
  };
}
