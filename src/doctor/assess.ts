/**
 * `tcprepro doctor`, the pure part: what was found on this machine (DoctorFacts) → one check per
 * thing the harness and the catalog need, each gap with what to do. The probing is in probe.ts,
 * so this can be tested with a made-up machine.
 */
import type { KernelInventory } from "../runtime/runtime.js";
import { kernelSatisfies } from "../verdict/requires.js";
import type { CatalogNeeds, NeedUse } from "./catalog-needs.js";
import type { NetemFinding } from "../runtime/shared/netem.js";

export interface DoctorFacts {
  engine:
    | { reachable: true; version: string; where: string }
    | { reachable: false; where: string; error: string };
  /** The node image and the base it is built from; `present` is null when the engine did not answer. */
  images: {
    node: { name: string; present: boolean | null };
    base: { name: string; present: boolean | null };
  };
  uid: number;
  /** The kernel the nodes run on, with its sysctls and counters. */
  inventory: KernelInventory;
  netem: NetemFinding;
  /** Host programs and files: name → where found, or null. */
  tools: { gcc: string | null; staticLibc: string | null; debootstrap: string | null };
  /** What VMs run under here (KVM or TCG) and how that was decided; absent: not asked. */
  vmAccel?: string;
  /** What the catalog uses; an error when the catalog did not load. */
  catalog: { needs: CatalogNeeds } | { error: string };
}

/**
 * ok: present. gap: missing, and it matters here (exit 1). unknown: could not tell (does not
 * fail the exit code: the fix is to look, not to install). n/a: missing but not needed on this
 * kernel (every scenario that uses it runs only on other kernels).
 */
export type CheckStatus = "ok" | "gap" | "unknown" | "n/a";

export interface Check {
  group: "engine" | "host" | "catalog" | "sysctls" | "counters";
  /** What is checked: `Docker engine`, `net.core.somaxconn`, `TcpExtListenOverflows`, … */
  name: string;
  status: CheckStatus;
  /** What was found (version, path, the scenarios that use it). */
  detail: string;
  /** For gap and unknown: what to do. */
  fix?: string;
}

export interface DoctorReport {
  kernel: string;
  checks: Check[];
  gaps: number;
}

const CONNTRACK_FIX =
  "load conntrack on the host: modprobe nf_conntrack (Docker's NAT normally loads it)";

function sysctlFix(name: string): string {
  if (name === "net.ipv4.tcp_tw_recycle")
    return "removed in Linux 4.12 (and per network namespace only in 4.11): run those scenarios on a 4.11 kernel in a VM (`tcprepro kernels add`, docs/kernels.md)";
  if (name.startsWith("net.netfilter.") || name.startsWith("net.nf_conntrack"))
    return CONNTRACK_FIX;
  return "this kernel does not have it (a module that is not loaded, or a kernel built without it): load the module or run on a kernel that has it";
}

function counterFix(name: string): string {
  if (name.startsWith("NfConntrack"))
    return `${CONNTRACK_FIX}; the counters come from /proc/net/stat/nf_conntrack`;
  return "this kernel does not count it: run the scenarios that check it on a kernel that does";
}

const names = (uses: NeedUse[]) => uses.map((u) => u.scenario).join(", ");

/** One sysctl or counter: present, a gap, or not needed on this kernel. */
function nameCheck(
  group: "sysctls" | "counters",
  name: string,
  uses: NeedUse[],
  present: boolean,
  release: string,
): Check {
  if (present) return { group, name, status: "ok", detail: names(uses) };
  const here = uses.filter((u) => !u.kernelRange || kernelSatisfies(release, u.kernelRange));
  if (here.length === 0) {
    const ranges = uses.map((u) => `${u.scenario} runs on kernel ${u.kernelRange}`).join("; ");
    return {
      group,
      name,
      status: "n/a",
      detail: `absent, not needed on ${release}: ${ranges} (SKIPs here)`,
    };
  }
  const skips = here.filter((u) => u.required);
  const invalid = here.filter((u) => !u.required);
  const effects = [
    skips.length > 0 && `${names(skips)} will SKIP`,
    invalid.length > 0 &&
      `${names(invalid)} will not load (a node sets it; list it in requires.sysctls to SKIP instead)`,
  ].filter(Boolean);
  return {
    group,
    name,
    status: "gap",
    detail: `absent on ${release}: ${effects.join("; ")}`,
    fix: group === "sysctls" ? sysctlFix(name) : counterFix(name),
  };
}

export function assess(f: DoctorFacts): DoctorReport {
  const release = f.inventory.release;
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  engineChecks(f, add);
  hostChecks(f, add);
  toolChecks(f, add);
  catalogChecks(f, add);
  return { kernel: release, checks, gaps: checks.filter((c) => c.status === "gap").length };
}

type Add = (c: Check) => void;

/** The engine, and the node image and its base. */
function engineChecks(f: DoctorFacts, add: Add): void {
  if (f.engine.reachable)
    add({
      group: "engine",
      name: "Docker engine",
      status: "ok",
      detail: `${f.engine.version} at ${f.engine.where}`,
    });
  else
    add({
      group: "engine",
      name: "Docker engine",
      status: "gap",
      detail: `not reachable at ${f.engine.where}`,
      fix: f.engine.error,
    });
  const { node, base } = f.images;
  const build =
    "sudo npx tcprepro setup, or npx tcprepro images build (run builds it when missing; about a minute, needs gcc and debootstrap)";
  if (node.present === null)
    add({
      group: "engine",
      name: `image ${node.name}`,
      status: "unknown",
      detail: "the engine did not answer",
      fix: "start the engine (sudo npx tcprepro setup starts one), then run doctor again",
    });
  else if (node.present)
    add({ group: "engine", name: `image ${node.name}`, status: "ok", detail: "the node image" });
  else
    add({
      group: "engine",
      name: `image ${node.name}`,
      status: "gap",
      detail: "the node image is not built",
      fix: build,
    });
  if (base.present === true)
    add({ group: "engine", name: `image ${base.name}`, status: "ok", detail: "the base image" });
  else if (base.present === false && node.present === false)
    add({
      group: "engine",
      name: `image ${base.name}`,
      status: "gap",
      detail: "the base image is not built",
      fix: build,
    });
  else if (base.present === false)
    add({
      group: "engine",
      name: `image ${base.name}`,
      status: "n/a",
      detail: "absent; only needed to rebuild the node image",
    });
}

/** Privileges, and the kernel the nodes run on. */
function hostChecks(f: DoctorFacts, add: Add): void {
  const release = f.inventory.release;
  if (f.uid === 0)
    add({ group: "host", name: "privileges", status: "ok", detail: "running as root" });
  else
    add({
      group: "host",
      name: "privileges",
      status: "gap",
      detail: `running as uid ${f.uid}: counters cannot be read through /proc/<pid>/net of the nodes (slower docker exec instead), and the engine's socket may refuse`,
      fix: "run as root (sudo)",
    });
  const ranged =
    "needs" in f.catalog
      ? f.catalog.needs.scenarios.filter(
          (s) => s.kernelRange && !kernelSatisfies(release, s.kernelRange),
        )
      : [];
  add({
    group: "host",
    name: "kernel",
    status: "ok",
    detail:
      release +
      (ranged.length
        ? ` (not for ${ranged.map((s) => `${s.name}, which needs ${s.kernelRange}`).join("; ")}: it SKIPs here)`
        : ""),
  });
}

/** The host programs that build the agent and the base image, and the netem qdisc. */
function toolChecks(f: DoctorFacts, add: Add): void {
  const tool = (name: string, where: string | null, fix: string, why: string) =>
    add(
      where
        ? { group: "host", name, status: "ok", detail: where }
        : { group: "host", name, status: "gap", detail: `missing: ${why}`, fix },
    );
  tool(
    "gcc",
    f.tools.gcc,
    "sudo npx tcprepro setup (or apt-get install -y gcc libc6-dev)",
    "it compiles the agent",
  );
  tool(
    "static libc",
    f.tools.staticLibc,
    "sudo npx tcprepro setup (or apt-get install -y libc6-dev)",
    "the agent is linked -static",
  );
  tool(
    "debootstrap",
    f.tools.debootstrap,
    "sudo npx tcprepro setup (or apt-get install -y debootstrap; or build with --base debian:bookworm-slim where a registry answers)",
    "it makes the offline base image",
  );
  add(netemCheck(f));
  // TCG is slower, never wrong: not a gap.
  if (f.vmAccel) add({ group: "host", name: "VM accelerator", status: "ok", detail: f.vmAccel });
}

/** Every sysctl and counter the catalog uses, on the runtime's kernel. */
function catalogChecks(f: DoctorFacts, add: Add): void {
  const release = f.inventory.release;
  if ("error" in f.catalog) {
    add({
      group: "catalog",
      name: "scenarios",
      status: "gap",
      detail: "the scenarios did not load",
      fix: f.catalog.error,
    });
  } else {
    const { sysctls, counters } = f.catalog.needs;
    for (const [name, uses] of [...sysctls].sort(([a], [b]) => a.localeCompare(b))) {
      const inv = f.inventory;
      // 4.11's tcp_abort_on_overflow: there, but not in a node's namespace.
      if (inv.sysctlPerNetns && inv.sysctlExists(name) && !inv.sysctlPerNetns(name))
        add({
          group: "sysctls",
          name,
          status: "gap",
          detail: `only in the initial namespace on ${release}: ${names(uses)} will SKIP (a node cannot set it)`,
          fix: "run those scenarios on a kernel where it is per network namespace",
        });
      else add(nameCheck("sysctls", name, uses, inv.sysctlExists(name), release));
    }
    for (const [name, uses] of [...counters].sort(([a], [b]) => a.localeCompare(b)))
      add(nameCheck("counters", name, uses, f.inventory.counters.has(name), release));
  }
}

const MARK: Record<CheckStatus, string> = { ok: "✓", gap: "✗", unknown: "?", "n/a": "–" };
const TITLE: Record<Check["group"], string> = {
  engine: "engine",
  host: "host",
  catalog: "catalog",
  sysctls: "sysctls the catalog sets or requires",
  counters: "counters the catalog checks",
};

export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [];
  for (const group of ["engine", "host", "catalog", "sysctls", "counters"] as const) {
    const checks = r.checks.filter((c) => c.group === group);
    if (checks.length === 0) continue;
    const width = Math.max(...checks.map((c) => c.name.length));
    out.push(TITLE[group]);
    for (const c of checks) {
      out.push(`  ${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`);
      if (c.fix) out.push(`    ${" ".repeat(width)}  → ${c.fix}`);
    }
    out.push("");
  }
  const unknown = r.checks.filter((c) => c.status === "unknown").length;
  const tail = unknown > 0 ? `; ${unknown} unknown` : "";
  out.push(
    r.gaps === 0
      ? `everything tcprepro and the catalog need is here${tail}`
      : `${r.gaps} gap${r.gaps === 1 ? "" : "s"}${tail}: see → above`,
  );
  return out.join("\n") + "\n";
}

/**
 * netem is missing from some kernels (this host's among them). Missing matters only when a
 * scenario's faults use it: otherwise it is information (n/a), not a gap.
 */
function netemCheck(f: DoctorFacts): Check {
  const users = "error" in f.catalog ? [] : (f.catalog.needs.qdiscs.get("netem") ?? []);
  const check = { group: "host", name: "netem qdisc", detail: f.netem.how } as const;
  if (f.netem.status === "present") return { ...check, status: "ok" };
  if (f.netem.status === "unknown")
    return {
      ...check,
      status: "unknown",
      fix: "check on the host: modinfo sch_netem, or zgrep NETEM /proc/config.gz",
    };
  const fix =
    "delay and loss scenarios need a kernel with sch_netem (Debian's kernels ship it as a module: modprobe sch_netem)";
  return users.length === 0
    ? { ...check, status: "n/a", detail: `${f.netem.how}; no scenario uses it`, fix }
    : { ...check, status: "gap", detail: `${f.netem.how}; used by ${names(users)}`, fix };
}
