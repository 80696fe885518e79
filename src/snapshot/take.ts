/**
 * `tcprepro snapshot`: read a host's (or a network namespace's) TCP state from /proc. No engine,
 * no root where /proc is readable. Everything under /proc/net and /proc/sys/net is seen from the
 * reading process's network namespace, so run inside a namespace (`ip netns exec NS tcprepro
 * snapshot`, `nsenter -n -t PID`) to snapshot that namespace; `procRoot` reads a copy of /proc
 * (a test fixture, or another mount).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { parseArpCacheStat, parseConntrackStat, parseProcNetCounters } from "../evidence/proc.js";
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotError, type Snapshot } from "./snapshot.js";
import { addProcNetTcp, matchSendQ, parseSsRows, type ProcSockets } from "./sockets.js";

/** Sysctls read besides every `net.ipv4.tcp_*`. Absent ones are skipped (and noted). */
export const EXTRA_SYSCTLS = [
  "net.core.somaxconn",
  "net.core.netdev_max_backlog",
  "net.ipv4.ip_local_port_range",
  "net.netfilter.nf_conntrack_max",
  "net.netfilter.nf_conntrack_count",
  "net.netfilter.nf_conntrack_buckets",
  "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
  "net.ipv4.neigh.default.gc_thresh1",
  "net.ipv4.neigh.default.gc_thresh2",
  "net.ipv4.neigh.default.gc_thresh3",
];

/** Never copied into a file people pass around: the key TCP Fast Open cookies are made with. */
const SECRET_SYSCTLS = new Set(["tcp_fastopen_key"]);

/** Kernel log lines that name a cause, by the key the snapshot counts them under. */
export const KERNEL_LOG_LINES: Record<string, RegExp> = {
  // 7.2 names the namespace: "nf_conntrack: table full in netns 4026532217, dropping packet".
  conntrackTableFull: /nf_conntrack: (nf_conntrack: )?table full( in netns \d+)?, dropping packet/,
  neighbourTableOverflow: /neighbo(u)?r table overflow/,
};

/** The lines of a kernel log (dmesg's output) that name a cause, counted. */
export function countKernelLog(text: string): Record<string, number> {
  const lines = text.split("\n");
  return Object.fromEntries(
    Object.entries(KERNEL_LOG_LINES).map(([key, re]) => [
      key,
      lines.filter((l) => re.test(l)).length,
    ]),
  );
}

/** The kernel log's lines that name a cause, counted; undefined when `dmesg` cannot be read. */
function readKernelLog(notes: string[]): Record<string, number> | undefined {
  const r = spawnSync("dmesg", [], { encoding: "utf8", timeout: 10_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    notes.push(
      `kernel log: \`dmesg\` did not run (${r.error?.message ?? r.stderr.trim()}): ` +
        '"table full, dropping packet" lines not counted',
    );
    return undefined;
  }
  return countKernelLog(r.stdout);
}

export interface SnapshotOptions {
  /** Root of the /proc to read (default `/proc`). */
  procRoot?: string;
  /**
   * Run `ss -Hlnt` for the listeners' Send-Q (default: only when reading the live /proc, since
   * ss asks the kernel of the current namespace, not a copied tree).
   */
  useSs?: boolean;
  /** A saved kernel log (dmesg's output) to count instead of running dmesg (with a copied /proc). */
  kernelLogText?: string;
  now?: Date;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** `32768\t60999` → "32768 60999"; `4096` → 4096. */
function sysctlValue(text: string): number | string {
  const v = text.trim().replace(/\s+/g, " ");
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

function readSysctls(proc: string, notes: string[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const ipv4 = join(proc, "sys/net/ipv4");
  let tcp: string[] = [];
  try {
    tcp = readdirSync(ipv4).filter((n) => n.startsWith("tcp_") && !SECRET_SYSCTLS.has(n));
  } catch (err) {
    notes.push(`sysctls: ${ipv4} not readable (${(err as Error).message})`);
  }
  const missing: string[] = [];
  const denied: string[] = [];
  for (const name of [...tcp.map((n) => `net.ipv4.${n}`), ...EXTRA_SYSCTLS].sort()) {
    try {
      out[name] = sysctlValue(readFileSync(join(proc, "sys", ...name.split(".")), "utf8"));
    } catch (err) {
      ((err as NodeJS.ErrnoException).code === "EACCES" ? denied : missing).push(name);
    }
  }
  if (missing.length > 0)
    notes.push(
      `sysctls not present here (a module not loaded, or not per network namespace): ${missing.join(", ")}`,
    );
  if (denied.length > 0) notes.push(`sysctls readable only by root: ${denied.join(", ")}`);
  return out;
}

/**
 * The files without which a snapshot would lie: a host with no kernel and no counters reads as a
 * quiet host to `diagnose`. Refused (exit 2) rather than noted.
 */
function readEssential(proc: string, rel: string): string {
  try {
    const text = readFileSync(join(proc, rel), "utf8");
    if (text.trim() === "") throw new Error("empty");
    return text;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new SnapshotError(
      `${proc}: ${join(proc, rel)} cannot be read (${why}): ` +
        (existsSync(proc)
          ? "not a /proc tree, or one this user may not read"
          : "no such directory") +
        "; nothing written",
    );
  }
}

export function takeSnapshot(opts: SnapshotOptions = {}): Snapshot {
  const proc = opts.procRoot ?? "/proc";
  const notes: string[] = [];
  const kernel = readEssential(proc, "sys/kernel/osrelease").trim();
  const netText = ["netstat", "snmp"].map((f) => readEssential(proc, `net/${f}`));
  const counters = parseProcNetCounters(netText.join("\n"));
  if (!Object.keys(counters).some((n) => n.startsWith("TcpExt")))
    throw new SnapshotError(
      `${proc}: ${proc}/net/netstat holds no TcpExt counters: not a /proc tree; nothing written`,
    );
  const ct = readText(join(proc, "net/stat/nf_conntrack"));
  if (ct === undefined)
    notes.push("conntrack statistics: no /proc/net/stat/nf_conntrack (conntrack not loaded here)");
  else Object.assign(counters, parseConntrackStat(ct));
  const arp = readText(join(proc, "net/stat/arp_cache"));
  if (arp === undefined)
    notes.push(
      "neighbour table statistics: no /proc/net/stat/arp_cache (it exists only in the initial " +
        "network namespace): neighbour-table-full not checked",
    );
  else Object.assign(counters, parseArpCacheStat(arp));

  const sockets: ProcSockets = { states: {}, listen: [] };
  for (const [file, family] of [
    ["tcp", "ipv4"],
    ["tcp6", "ipv6"],
  ] as const) {
    const t = readText(join(proc, "net", file));
    if (t === undefined) notes.push(`sockets: ${proc}/net/${file} not readable`);
    else addProcNetTcp(t, family, sockets);
  }

  let listenLimits: "ss" | "none" = "none";
  const useSs = opts.useSs ?? proc === "/proc";
  if (sockets.listen.length > 0) {
    const ss = useSs ? spawnSync("ss", ["-Hlnt"], { encoding: "utf8", timeout: 10_000 }) : null;
    if (ss && ss.status === 0) {
      listenLimits = "ss";
      const unknown = matchSendQ(sockets.listen, parseSsRows(ss.stdout));
      if (unknown > 0) notes.push(`listeners: ${unknown} not matched to an ss row: Send-Q unknown`);
    } else {
      notes.push(
        "listeners: Send-Q (the accept queue's limit) unknown: /proc/net/tcp does not hold it " +
          "(tx_queue is 0 for a listener) and " +
          (useSs
            ? `\`ss -lnt\` did not run (${ss?.error?.message ?? ss?.stderr.trim()})`
            : "ss was not used") +
          (existsSync("/usr/sbin/ss") || existsSync("/usr/bin/ss") ? "" : " (install iproute2)"),
      );
    }
  }
  // The log is the live kernel's: not asked for a copied /proc.
  const kernelLog =
    opts.kernelLogText !== undefined
      ? countKernelLog(opts.kernelLogText)
      : (opts.useSs ?? proc === "/proc")
        ? readKernelLog(notes)
        : undefined;
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    takenAt: (opts.now ?? new Date()).toISOString(),
    // A copied /proc names its own host (sys/kernel/hostname is per UTS namespace).
    hostname:
      (proc === "/proc" ? undefined : readText(join(proc, "sys/kernel/hostname"))?.trim()) ||
      hostname(),
    kernel,
    source: { proc, listenLimits, notes },
    sysctls: readSysctls(proc, notes),
    counters,
    listen: sockets.listen,
    states: sockets.states,
    ...(kernelLog ? { kernelLog } : {}),
  };
}
