/**
 * `scenario new --from`: the catalog's scenario for a cause, set to the host's own numbers. Per
 * cause, a tuner takes what shapes that failure from the snapshot — the listener's port and
 * backlog, the sysctls — sizes the traffic so the failure shows at those numbers, writes the
 * expectations the host's counters support, and a `mitigated` variant from the what-to-try
 * table. A value that must differ from the host's says why in its comment; what cannot be
 * carried over goes to `notes` (stderr).
 */
import { isMap, isSeq } from "yaml";
import type { CauseName } from "../diagnosis/causes.js";
import {
  portRange,
  sysctlNumber,
  type Snapshot,
  type SnapshotListener,
} from "../snapshot/snapshot.js";
import type { Editor } from "./yaml-editor.js";

export interface HostTuning {
  ed: Editor;
  s: Snapshot;
  notes: string[];
}

const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const counter = (s: Snapshot, name: string): number => s.counters[name] ?? 0;

/**
 * The listener the failure is about: the fullest one with a known limit, else the first that is
 * not bound to loopback only (a production listener serves other hosts).
 */
export function hostListener(s: Snapshot): SnapshotListener | undefined {
  const known = s.listen.filter((l) => l.sendQ !== null && l.sendQ > 0);
  const fullest = [...known].sort(
    (a, b) => b.recvQ / b.sendQ! - a.recvQ / a.sendQ! || b.recvQ - a.recvQ,
  )[0];
  if (fullest && fullest.recvQ > 0) return fullest;
  const open = s.listen.filter((l) => !/^(127\.|::1$)/.test(l.address));
  return open[0] ?? known[0] ?? s.listen[0];
}

/**
 * The server app listens on the host's port, and every traffic item and flood aimed at the
 * server goes there (they named the catalog's port).
 */
export function retarget(t: HostTuning, l: SnapshotListener): void {
  const { ed, notes } = t;
  if (ed.get(["nodes", "server", "app"]) === undefined) return;
  ed.set(
    ["nodes", "server", "app", "listen"],
    l.port,
    `the port of the listener ${l.address}:${l.port} in the snapshot`,
  );
  for (const section of ["traffic", "floods"]) {
    const items = ed.doc.get(section, true);
    if (!isSeq(items)) continue;
    items.items.forEach((item, i) => {
      if (!isMap(item)) return;
      const to = item.get("to");
      if (typeof to === "string" && /^server:\d+$/.test(to))
        ed.set([section, String(i), "to"], `server:${l.port}`);
    });
  }
  if (t.s.listen.length > 1)
    notes.push(
      `the host has ${t.s.listen.length} listeners; the scenario's server is ${l.address}:${l.port} ` +
        "(edit app.listen and the traffic's `to` for another)",
    );
  notes.push(
    `not carried over: the host's addresses (${l.address}) and its other traffic; the scenario's ` +
      "nodes have their own addresses on a private network",
  );
}

/** The listener's Send-Q as the app's backlog: with somaxconn copied, the host's queue limit. */
function hostBacklog(t: HostTuning, l: SnapshotListener): number | undefined {
  if (l.sendQ === null) {
    t.notes.push(
      `listener ${l.address}:${l.port}: its Send-Q (the queue's limit) is not in the snapshot ` +
        "(no ss): the app's backlog is left as the catalog's",
    );
    return undefined;
  }
  t.ed.set(
    ["nodes", "server", "app", "backlog"],
    l.sendQ,
    "the listener's Send-Q in the snapshot (its queue limit, min(backlog, somaxconn))",
  );
  return l.sendQ;
}

/**
 * syn-queue-overflow with syncookies off: two drop paths, both counted in ListenDrops. The SYN
 * queue at the accept backlog (min(backlog, somaxconn)) drops with TCPReqQFullDrop; before
 * that, once fewer than a quarter of tcp_max_syn_backlog is left, the "last quarter" check
 * drops with no counter of its own. Which comes first follows from the backlog and
 * tcp_max_syn_backlog — both copied — and the expectation is the path the host's counters show.
 */
export function tuneSynQueue(t: HostTuning): void {
  const { ed, s, notes } = t;
  const l = hostListener(s);
  if (l) retarget(t, l);
  const backlog = l ? (hostBacklog(t, l) ?? 8) : 8;
  const maxSyn = sysctlNumber(s, "net.ipv4.tcp_max_syn_backlog") ?? 16;
  const cookies = sysctlNumber(s, "net.ipv4.tcp_syncookies");
  const reqQFull = counter(s, "TcpExtTCPReqQFullDrop");
  const listenDrops = counter(s, "TcpExtListenDrops");
  // The queue reaches the backlog first when backlog <= max - max/4 + 1.
  const predictsReqQFull = backlog <= maxSyn - (maxSyn >> 2) + 1;
  const hostReqQFull = reqQFull > 0;
  if (predictsReqQFull !== hostReqQFull)
    notes.push(
      `the host's counters show the ${hostReqQFull ? "full-queue" : "last-quarter"} drop path, but ` +
        `backlog ${backlog} with tcp_max_syn_backlog ${maxSyn} predicts the other here: the ` +
        "host's backlog or max_syn_backlog may have changed since",
    );
  const queue = Math.min(backlog, maxSyn);
  const floodSize = Math.min(100_000, Math.max(2000, 8 * queue));
  ed.set(
    ["floods", "0", "count"],
    floodSize,
    `not the host's: its flood's size is not in a snapshot (it counted ListenDrops ${listenDrops} ` +
      `since boot); ${floodSize} SYNs at once fill a SYN queue of ${queue} many times over`,
  );
  const path = hostReqQFull
    ? {
        TcpExtTCPReqQFullDrop: "> 0",
        TcpExtSyncookiesSent: "== 0",
      }
    : {
        TcpExtListenDrops: "> 0",
        TcpExtTCPReqQFullDrop: "== 0",
        TcpExtSyncookiesSent: "== 0",
      };
  ed.set(
    ["expect", "counters"],
    { server: path },
    hostReqQFull
      ? `the host's path: the SYN queue full at the backlog (TCPReqQFullDrop ${reqQFull} of ListenDrops ${listenDrops})`
      : `the host's path: the last quarter of tcp_max_syn_backlog ${maxSyn} (ListenDrops ${listenDrops}, TCPReqQFullDrop 0)`,
  );
  ed.set(
    ["summary"],
    `A SYN flood against the app on port ${l?.port ?? 8080} of ${s.hostname} with its numbers: ` +
      `syncookies ${cookies ?? "?"}, tcp_max_syn_backlog ${maxSyn}, listen backlog ${backlog}. ` +
      (hostReqQFull
        ? "The SYN queue fills at the backlog and new SYNs are dropped (TCPReqQFullDrop), "
        : "Once a quarter of tcp_max_syn_backlog is left, new SYNs are dropped (ListenDrops, no TCPReqQFullDrop), ") +
      "legitimate ones included.",
  );
  if (cookies !== 0)
    notes.push(
      `the host has tcp_syncookies ${cookies}: a SYN flood there is answered with cookies ` +
        "(syn-flood-cookies), not dropped",
    );
}

/** syn-flood-cookies: the same flood on the host's numbers, cookies answering. */
export function tuneSynCookies(t: HostTuning): void {
  tuneSynQueue(t);
  const { ed, s } = t;
  ed.set(["expect", "cause"], "syn-flood-cookies");
  ed.set(
    ["expect", "counters"],
    { server: { TcpExtSyncookiesSent: "> 0" } },
    `the host's cookies: SyncookiesSent ${counter(s, "TcpExtSyncookiesSent")} since boot`,
  );
  ed.set(["expect", "clients"], { connected: "== 10" });
  const maxSyn = sysctlNumber(s, "net.ipv4.tcp_max_syn_backlog") ?? 16;
  ed.set(
    ["variants", "mitigated", "set"],
    { "nodes.server.sysctls.net.ipv4.tcp_max_syn_backlog": pow2(Math.max(4096, 4 * maxSyn)) },
    "what to try: a SYN queue that legitimate bursts do not fill",
  );
  ed.set(["variants", "mitigated", "expect"], { cause: "syn-flood-cookies" });
}

/** conntrack-table-full: the host's nf_conntrack_max (kernel-wide), more flows than it holds. */
export function tuneConntrack(t: HostTuning): void {
  const { ed, s, notes } = t;
  const hostMax = sysctlNumber(s, "net.netfilter.nf_conntrack_max");
  const count = sysctlNumber(s, "net.netfilter.nf_conntrack_count");
  const LIMIT = 512;
  let max = 64;
  if (hostMax === undefined)
    notes.push("the snapshot has no nf_conntrack_max (conntrack not loaded?): the catalog's 64");
  else if (hostMax <= LIMIT) {
    max = hostMax;
    ed.set(
      ["kernelSysctls", "net.netfilter.nf_conntrack_max"],
      max,
      `from the snapshot (${s.hostname}: nf_conntrack_count ${count ?? "?"})`,
    );
  } else {
    ed.set(
      ["kernelSysctls", "net.netfilter.nf_conntrack_max"],
      max,
      `not the host's ${hostMax}: filling a table that size takes ${hostMax} held ` +
        `connections, too many for a small topology; ${max} fails the same way`,
    );
    notes.push(`nf_conntrack_max: the host has ${hostMax}; the scenario fills a table of ${max}`);
  }
  const replicas = Number(ed.get(["nodes", "client", "replicas"]) ?? 1);
  const over = Math.max(40, Math.ceil(max / 4));
  const each = Math.ceil((max + over) / replicas);
  const total = each * replicas;
  ed.set(["traffic", "0", "connections"], each);
  ed.set(["traffic", "0", "concurrency"], each);
  ed.note(
    ["traffic"],
    `${replicas} × ${each} connections held open at once: ${max} fill the table, the other ` +
      `${total - max} find no room and their SYNs are dropped until the connect timeout.`,
  );
  ed.set(["expect", "clients"], { timedOut: "> 0", connected: `< ${total}` });
  const fixed = pow2(Math.max(4096, 2 * total));
  ed.set(
    ["variants", "mitigated", "set"],
    { "kernelSysctls.net.netfilter.nf_conntrack_max": fixed },
    "what to try: nf_conntrack_max above the flows (and the hash size with it on the host)",
  );
  ed.set(["variants", "mitigated", "expect", "clients"], {
    connected: `== ${total}`,
    failed: "== 0",
  });
  notes.push(
    "not carried over: the flows the host tracked (their peers, protocols and timeouts); the " +
      "scenario's are TCP connections through a SNAT gateway held open",
  );
}

/** port-exhaustion: the host's local port range and tcp_tw_reuse on the connecting side. */
export function tunePortExhaustion(t: HostTuning): void {
  const { ed, s, notes } = t;
  const range = portRange(s);
  const LIMIT = 256;
  let [lo, hi] = [40000, 40009];
  const path = ["nodes", "client", "sysctls", "net.ipv4.ip_local_port_range"];
  if (range && range[1] - range[0] + 1 <= LIMIT) {
    [lo, hi] = range;
    ed.set(path, `${lo} ${hi}`, `from the snapshot (${s.hostname})`);
  } else if (range) {
    ed.set(
      path,
      `${lo} ${hi}`,
      `not the host's ${range[0]} ${range[1]}: using up ${range[1] - range[0] + 1} ports takes as ` +
        `many connections; ${hi - lo + 1} run out the same way`,
    );
  }
  const ports = hi - lo + 1;
  const reuse = sysctlNumber(s, "net.ipv4.tcp_tw_reuse");
  if (reuse === 1)
    notes.push(
      "the host has tcp_tw_reuse 1: its TIME_WAIT ports are reused after 1 s, so this scenario " +
        "(one destination, TIME_WAIT) will not run out the way the host did",
    );
  const more = 20;
  ed.set(["traffic", "0", "connections"], ports + more);
  ed.note(
    ["traffic"],
    `One at a time to one destination: each connection leaves its local port in TIME_WAIT for 60 s, ` +
      `so after ${ports} (the host's range) the other ${more} find no port (EADDRNOTAVAIL).`,
  );
  ed.set(["expect", "clients"], { connected: `== ${ports}`, EADDRNOTAVAIL: `== ${more}` });
  ed.set(["variants", "mitigated", "expect", "clients"], { connected: `== ${ports + more}` });
  notes.push(
    `TIME_WAIT ${s.states["TIME_WAIT"] ?? 0} on the host; not carried over: which destinations ` +
      "they were for (a snapshot counts states, not peers): the scenario's server stands for one",
  );
}

/** tw-bucket-overflow: the host's tcp_max_tw_buckets, more closes on its side than it holds. */
export function tuneTwBuckets(t: HostTuning): void {
  const { ed, s, notes } = t;
  const l = hostListener(s);
  if (l) retarget(t, l);
  const host = sysctlNumber(s, "net.ipv4.tcp_max_tw_buckets");
  const LIMIT = 400;
  let buckets = 10;
  const path = ["nodes", "server", "sysctls", "net.ipv4.tcp_max_tw_buckets"];
  if (host !== undefined && host <= LIMIT) {
    buckets = host;
    ed.set(path, buckets, `from the snapshot (${s.hostname})`);
  } else if (host !== undefined) {
    ed.set(
      path,
      buckets,
      `not the host's ${host}: overflowing it takes more than ${host} closes within 60 s; ` +
        `${buckets} overflows the same way`,
    );
  }
  const connections = Math.max(100, 3 * buckets + 60);
  ed.set(["traffic", "0", "connections"], connections);
  ed.set(["expect", "counters"], {
    server: { TcpExtTCPTimeWaitOverflow: `> ${Math.floor((connections - buckets) / 2)}` },
  });
  ed.set(["expect", "clients"], { connected: `== ${connections}` });
  ed.set(
    ["expect", "sockets"],
    { server: { TIME_WAIT: `<= ${buckets + 10}` } },
    `held near tcp_max_tw_buckets (${buckets}); the host had TimeWaitOverflow ${counter(s, "TcpExtTCPTimeWaitOverflow")} since boot`,
  );
  const fixed = pow2(Math.max(4096, 2 * connections));
  ed.set(["variants", "mitigated", "set"], {
    "nodes.server.sysctls.net.ipv4.tcp_max_tw_buckets": fixed,
  });
  ed.set(["variants", "mitigated", "expect", "clients"], { connected: `== ${connections}` });
  ed.set(["variants", "mitigated", "expect", "sockets"], {
    server: { TIME_WAIT: `> ${Math.floor(connections / 2)}` },
  });
  if (!l) notes.push("no listener in the snapshot: the catalog's port 8080");
}

/** close-wait-leak: the host's listener, about as many leaked connections as it held. */
export function tuneCloseWait(t: HostTuning): void {
  const { ed, s, notes } = t;
  const l = hostListener(s);
  if (l) retarget(t, l);
  const leaked = s.states["CLOSE_WAIT"] ?? 0;
  const LIMIT = 200;
  const connections = Math.min(LIMIT, Math.max(20, leaked));
  ed.set(
    ["traffic", "0", "connections"],
    connections,
    leaked > LIMIT
      ? `not the host's ${leaked} CLOSE_WAIT sockets: ${LIMIT} leak the same way`
      : `the host held ${leaked} sockets in CLOSE_WAIT`,
  );
  const most = Math.floor(connections * 0.8);
  ed.set(["expect", "clients"], { connected: `== ${connections}` });
  ed.set(["expect", "sockets"], {
    server: { CLOSE_WAIT: `> ${most}` },
    client: { FIN_WAIT2: `> ${most}` },
  });
  ed.set(["variants", "mitigated", "expect", "clients"], { connected: `== ${connections}` });
  notes.push(
    "not carried over: the peers' tcp_fin_timeout (the client's is the catalog's, to keep the run short)",
  );
}

/** neighbour-table-full: the host's gc_thresh1/2/3 (kernel-wide), more neighbours than thresh3. */
export function tuneNeighbours(t: HostTuning): void {
  const { ed, s, notes } = t;
  const host = [1, 2, 3].map((i) => sysctlNumber(s, `net.ipv4.neigh.default.gc_thresh${i}`));
  const LIMIT = 48;
  const thresh3 = host[2];
  if (thresh3 !== undefined && thresh3 <= LIMIT) {
    host.forEach((v, i) => {
      if (v !== undefined)
        ed.set(
          ["kernelSysctls", `net.ipv4.neigh.default.gc_thresh${i + 1}`],
          v,
          `from the snapshot (${s.hostname})`,
        );
    });
    const replicas = 2 * thresh3;
    ed.set(
      ["nodes", "client", "replicas"],
      replicas,
      `twice gc_thresh3: each client needs an entry on the server`,
    );
    const sent = replicas * Number(ed.get(["traffic", "0", "connections"]) ?? 3);
    ed.set(["variants", "mitigated", "expect", "clients"], {
      failed: "== 0",
      connected: `== ${sent}`,
    });
  } else if (thresh3 !== undefined) {
    ed.set(
      ["kernelSysctls", "net.ipv4.neigh.default.gc_thresh3"],
      Number(ed.get(["kernelSysctls", "net.ipv4.neigh.default.gc_thresh3"]) ?? 16),
      `not the host's ${thresh3}: overflowing it takes more than ${thresh3} neighbours on one ` +
        "network, too many nodes for a test; the catalog's fails the same way",
    );
    notes.push(`gc_thresh3: the host has ${thresh3}; the scenario overflows the catalog's`);
  }
  notes.push(
    `neighbour entries on the host: ${s.counters["ArpCacheEntries"] ?? "?"}; not carried over: ` +
      "its networks and peers (the scenario's clients stand for them)",
  );
}

export const HOST_TUNERS: Partial<Record<CauseName, (t: HostTuning) => void>> = {
  "syn-queue-overflow": tuneSynQueue,
  "syn-flood-cookies": tuneSynCookies,
  "conntrack-table-full": tuneConntrack,
  "port-exhaustion": tunePortExhaustion,
  "tw-bucket-overflow": tuneTwBuckets,
  "close-wait-leak": tuneCloseWait,
  "neighbour-table-full": tuneNeighbours,
};
