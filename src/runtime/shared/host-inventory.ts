/** The host kernel's inventory: sysctls, counters and qdiscs, for runtimes whose nodes run on it. */
import { existsSync, readFileSync } from "node:fs";
import { release as osRelease } from "node:os";
import { parseConntrackStat, parseProcNetCounters, parseSnmp6 } from "../../evidence/proc.js";
import type { KernelInventory } from "../runtime.js";
import { probeNetem } from "./netem.js";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Counter names from a kernel's /proc/net/netstat, /proc/net/snmp, stat/nf_conntrack and snmp6. */
export function counterNames(
  netstat: string,
  snmp: string,
  conntrack: string,
  snmp6 = "",
): Set<string> {
  return new Set([
    ...Object.keys(parseProcNetCounters(netstat + "\n" + snmp)),
    ...Object.keys(parseSnmp6(snmp6)),
    ...Object.keys(parseConntrackStat(conntrack)),
  ]);
}

/**
 * The host's inventory. With a local engine (or network namespaces) the nodes run on this very
 * kernel; counter and sysctl names are the same in every network namespace.
 */
export function hostInventory(release: string = osRelease()): KernelInventory {
  const counters = counterNames(
    read("/proc/net/netstat"),
    read("/proc/net/snmp"),
    read("/proc/net/stat/nf_conntrack"),
    read("/proc/net/snmp6"),
  );
  return {
    release,
    counters,
    qdiscs: new Set(probeNetem(release).status === "present" ? ["netem"] : []),
    sysctlExists: hostSysctlExists,
  };
}

/** Does this sysctl exist on the host's kernel? Sysctl names are the same in every namespace. */
export function hostSysctlExists(name: string): boolean {
  return existsSync(`/proc/sys/${name.replaceAll(".", "/")}`);
}

/** For commands that run nothing (validate, list, compose): the kernel of this host. */
export const hostKernelFacts = { sysctlExists: hostSysctlExists };
