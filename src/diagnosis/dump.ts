/**
 * `tcprepro diagnose --before FILE --after FILE`: the same rules on two counter dumps from a
 * production host, in either format it gives (`nstat -az`, or `cat /proc/net/netstat
 * /proc/net/snmp`). The host is one node — named after the host (its snapshot's hostname), or
 * "host" for bare dumps — that the rules read as a listener (role "server"), with no client
 * evidence, so every rule that needs more than its counters says so in `unchecked`.
 */
import { counterDeltas, looksLikeNstat, parseCounterDump } from "../evidence/proc.js";
import type { Counters, Evidence, ListenQueueEvidence, SocketEvidence } from "../evidence/types.js";
import type { Diagnosis } from "./causes.js";
import type { DropReasons } from "../evidence/drop-reasons.js";
import { DumpError } from "./errors.js";
import { NETSTAT_COUNTERS_READ, diagnose } from "./rules.js";

/** Values that go down as well as up (gauges, settings): lower after is not a counter reset. */
const NOT_MONOTONIC = new Set([
  "TcpRtoAlgorithm",
  "TcpRtoMin",
  "TcpRtoMax",
  "TcpMaxConn",
  "TcpCurrEstab",
  "IpForwarding",
  "IpDefaultTTL",
  "MPTcpExtMPCurrEstab",
  "ArpCacheEntries",
]);

/** What counters from one host cannot tell, whatever they say. */
const DUMP_UNCHECKED = [
  "conntrack: no /proc/net/stat/nf_conntrack was given (a snapshot of the NAT gateway or node has it): conntrack-table-full and snat-conntrack-collision not checked",
  "packets: no capture: whether SYNs arrived at all, and passive vs active resets (the RST's IP id), not checked",
  "listen queue: no `ss -lnt` samples: accept-queue depth not checked",
  "socket states: no /proc/net/tcp samples: close-wait-leak not checked",
  "request timings: no client's round trips: delayed-ack-nagle not checked (TcpExtDelayedACKs alone is every host's normal)",
  "sockets: the counters cover every socket of the host (or of its network namespace): which port or application moved them not checked",
];

export function diagnoseDumps(before: string, after: string): Diagnosis {
  // `nstat -a` without -z leaves zeros out: a missing counter is then 0 or absent from the
  // kernel, and there is no telling which.
  const omitsZeros = [before, after].some((t) => looksLikeNstat(t) && !/^\S+\s+0(\s|$)/m.test(t));
  return diagnoseCounterPair(readDump(before, "before"), readDump(after, "after"), { omitsZeros });
}

export interface CounterPairOptions {
  /** A dump left zero counters out: take the rules' counters as 0, and say so. */
  omitsZeros?: boolean;
  kernel?: string;
  /** The host's listen sockets (from snapshots), when known. */
  listen?: ListenQueueEvidence;
  /** The host's sockets per state (from snapshots, /proc/net/tcp), when known. */
  sockets?: SocketEvidence;
  /** The kernel's drop reasons while the window ran (diagnose --live, where tracefs is readable). */
  dropReasons?: DropReasons;
  /** What to call the host in the findings (default "host"). */
  node?: string;
}

/** The rules on one host's counters before and after, as a node "server" with no clients. */
export function diagnoseCounterPair(
  b: Counters,
  a: Counters,
  opts: CounterPairOptions = {},
): Diagnosis {
  const backwards = Object.entries(a).filter(
    ([k, v]) => !NOT_MONOTONIC.has(k) && b[k] !== undefined && v < b[k]!,
  );
  if (backwards.length > 0) {
    const [k, v] = backwards[0]!;
    throw new DumpError(
      "both",
      `counters went backwards between the dumps (${k} ${b[k]} → ${v}` +
        (backwards.length > 1 ? `, and ${backwards.length - 1} more` : "") +
        "): is --before the later dump, or did the host reboot between them?",
    );
  }
  const counters = counterDeltas(b, a);
  const available = new Set([...Object.keys(a), ...Object.keys(b)]);
  if (opts.omitsZeros) {
    for (const c of NETSTAT_COUNTERS_READ) {
      counters[c] ??= 0;
      available.add(c);
    }
  }
  const node = opts.node ?? "host";
  const evidence: Evidence = {
    kernel: opts.kernel ?? "unknown",
    ...(opts.dropReasons ? { dropReasons: opts.dropReasons } : {}),
    nodes: {
      [node]: {
        counters,
        available: [...available],
        ...(opts.listen ? { listen: opts.listen } : {}),
        ...(opts.sockets ? { sockets: opts.sockets } : {}),
      },
    },
    roles: { [node]: "server" },
    attempts: [],
    clients: { attempts: 0, outcomes: {}, connectMs: null, replyMs: null },
  };
  const d = diagnose(evidence);
  return {
    causes: d.causes,
    unchecked: [
      ...(opts.omitsZeros
        ? [
            "counter existence: the dumps leave out zero counters (nstat without -z): a missing " +
              "counter was taken as 0, so a rule whose counter this kernel lacks was not really " +
              "checked (use `nstat -az`)",
          ]
        : []),
      ...d.unchecked,
      ...DUMP_UNCHECKED.filter(
        (u) =>
          !(opts.listen && u.startsWith("listen queue:")) &&
          !(available.has("NfConntrackDrop") && u.startsWith("conntrack:")) &&
          !(opts.sockets && u.startsWith("socket states:")),
      ),
    ],
  };
}

export function readDump(text: string, which: "before" | "after"): Counters {
  const counters = parseCounterDump(text);
  const names = Object.keys(counters);
  const how = "expected the output of `nstat -az` or of `cat /proc/net/netstat /proc/net/snmp`";
  if (names.length === 0) throw new DumpError(which, `--${which}: no counters found: ${how}`);
  if (!names.some((n) => n.startsWith("TcpExt")))
    throw new DumpError(
      which,
      `--${which}: no TcpExt counters (those of /proc/net/netstat): ${how}`,
    );
  if (!names.some((n) => /^Tcp(?!Ext)[A-Z]/.test(n)))
    throw new DumpError(which, `--${which}: no Tcp counters (those of /proc/net/snmp): ${how}`);
  return counters;
}
