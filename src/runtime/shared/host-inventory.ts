/** The host kernel's inventory: sysctls, counters and qdiscs, for runtimes whose nodes run on it. */
import { existsSync, readFileSync } from "node:fs";
import { release as osRelease } from "node:os";
import { parseConntrackStat, parseProcNetCounters } from "../../evidence/proc.js";
import type { KernelInventory } from "../runtime.js";
import { probeNetem } from "./netem.js";

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
export function hostInventory(release: string = osRelease()): KernelInventory {
  const counters = new Set([
    ...Object.keys(parseProcNetCounters(read("/proc/net/netstat") + "\n" + read("/proc/net/snmp"))),
    ...Object.keys(parseConntrackStat(read("/proc/net/stat/nf_conntrack"))),
  ]);
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
