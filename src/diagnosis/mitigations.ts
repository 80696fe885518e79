/**
 * What to try, per cause: one entry each — the change (a sysctl or the app), the catalog
 * scenario that demonstrates the cause and its fix, the sysctls of the host that shape it (what
 * `scenario new --from` copies), and the fix as a variant's `set` patch.
 */
import type { CauseName } from "./causes.js";

export interface Mitigation {
  /** The change to try, for a person: concrete sysctls and app settings. */
  change: string;
  /** Catalog scenario (`scenarios/<name>.yaml`) demonstrating the cause and the fix; none yet: undefined. */
  scenario?: string;
  /** Sysctls of the diagnosed host that shape this cause, per node of the catalog scenario. */
  hostSysctls: Record<string, readonly string[]>;
}

export const MITIGATIONS: Readonly<Record<Exclude<CauseName, "none" | "unexplained">, Mitigation>> =
  {
    "accept-queue-overflow": {
      change:
        "make the app accept faster, and raise its listen() backlog and net.core.somaxconn " +
        "together (the queue is the smaller of the two; somaxconn-caps-backlog shows raising one alone)",
      scenario: "accept-queue-overflow",
      hostSysctls: {
        server: [
          "net.core.somaxconn",
          "net.ipv4.tcp_max_syn_backlog",
          "net.ipv4.tcp_syncookies",
          "net.ipv4.tcp_abort_on_overflow",
          "net.ipv4.tcp_synack_retries",
        ],
        client: ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_syn_linear_timeouts"],
      },
    },
    "abort-on-overflow": {
      change:
        "set net.ipv4.tcp_abort_on_overflow=0 (a full queue then drops, and the client's retransmit " +
        "may get in), and fix the queue itself as for accept-queue-overflow",
      scenario: "abort-on-overflow",
      hostSysctls: {
        server: [
          "net.core.somaxconn",
          "net.ipv4.tcp_abort_on_overflow",
          "net.ipv4.tcp_synack_retries",
        ],
      },
    },
    "syn-queue-overflow": {
      change:
        "set net.ipv4.tcp_syncookies=1 and raise net.ipv4.tcp_max_syn_backlog (and the app's backlog)",
      scenario: "syn-flood",
      hostSysctls: {
        server: [
          "net.ipv4.tcp_max_syn_backlog",
          "net.core.somaxconn",
          "net.ipv4.tcp_syncookies",
          "net.ipv4.tcp_synack_retries",
        ],
      },
    },
    "syn-flood-cookies": {
      change:
        "nothing urgent: syncookies are answering a SYN flood; raise net.ipv4.tcp_max_syn_backlog " +
        "if legitimate bursts trigger them",
      scenario: "syn-flood",
      hostSysctls: {
        server: [
          "net.ipv4.tcp_max_syn_backlog",
          "net.core.somaxconn",
          "net.ipv4.tcp_syncookies",
          "net.ipv4.tcp_synack_retries",
        ],
      },
    },
    "tw-recycle-paws": {
      change: "set net.ipv4.tcp_tw_recycle=0 (removed in Linux 4.12)",
      scenario: "tw-recycle-nat",
      hostSysctls: { server: ["net.ipv4.tcp_timestamps"] },
    },
    "snat-conntrack-collision": {
      change:
        "give the gateway's SNAT a wider port range, or --random-fully; spread clients over more source addresses",
      scenario: "snat-port-reuse",
      hostSysctls: {},
    },
    "timewait-paws": {
      change:
        "keep TCP timestamps consistent per client (no rewriting middlebox), or do not reuse a " +
        "TIME_WAIT 4-tuple so fast (net.ipv4.tcp_tw_reuse on the client)",
      hostSysctls: {},
    },
    "syn-blackhole": {
      change:
        "find what drops the SYNs on the path (a firewall, a security group, rp_filter); lower " +
        "net.ipv4.tcp_syn_retries to fail fast meanwhile",
      scenario: "syn-blackhole",
      hostSysctls: { client: ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_syn_linear_timeouts"] },
    },
    "local-firewall": {
      change: "remove or narrow the local iptables/nftables rule that drops or rejects the traffic",
      scenario: "client-firewall",
      hostSysctls: {},
    },
    "no-listener": {
      change: "start the app, or point clients at the port it really listens on",
      scenario: "connection-refused",
      hostSysctls: {},
    },
    "active-reset": {
      change: "read the whole request before close() (or stop setting SO_LINGER 0) in the app",
      scenario: "reset-on-close",
      hostSysctls: {},
    },
    "port-exhaustion": {
      change:
        "widen net.ipv4.ip_local_port_range, set net.ipv4.tcp_tw_reuse=1 on the connecting side, " +
        "or reuse connections (keep-alive, pooling)",
      scenario: "port-exhaustion",
      // The host is the connecting side: the catalog's client.
      hostSysctls: { client: ["net.ipv4.tcp_tw_reuse", "net.ipv4.ip_local_port_range"] },
    },
    "retransmit-timeout": {
      change:
        "find the loss on the path; lower net.ipv4.tcp_retries2 to fail dead peers sooner, or use TCP keepalive/user timeouts",
      scenario: "retransmit-timeout",
      hostSysctls: { client: ["net.ipv4.tcp_retries2"] },
    },
    "close-wait-leak": {
      change:
        "make the app close() every connection whose peer closed (read returns 0); " +
        "net.ipv4.tcp_fin_timeout only bounds the peer's orphaned FIN_WAIT2, not CLOSE_WAIT",
      scenario: "close-wait-leak",
      // The host is the leaking server; tcp_fin_timeout is its peers' (the catalog's client's).
      hostSysctls: {},
    },
    "keepalive-dead-peer": {
      change:
        "turn SO_KEEPALIVE on with short timers (TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, or " +
        "net.ipv4.tcp_keepalive_time/_intvl/_probes): a vanished peer is then found dead",
      scenario: "keepalive-dead-peer",
      hostSysctls: {
        client: [
          "net.ipv4.tcp_keepalive_time",
          "net.ipv4.tcp_keepalive_intvl",
          "net.ipv4.tcp_keepalive_probes",
        ],
      },
    },
    "delayed-ack-nagle": {
      change:
        "send each request in one write, or set TCP_NODELAY on the client (TCP_QUICKACK on the server)",
      scenario: "delayed-ack-nagle",
      hostSysctls: {},
    },
    "lossy-path": {
      change:
        "find and fix the loss on the path (a link, a full queue, a firewall dropping at random)",
      scenario: "lossy-path",
      hostSysctls: {},
    },
    "tw-bucket-overflow": {
      change: "raise net.ipv4.tcp_max_tw_buckets (per network namespace)",
      scenario: "tw-bucket-overflow",
      hostSysctls: { server: ["net.ipv4.tcp_max_tw_buckets"] },
    },
    "neighbour-table-full": {
      change:
        "raise net.ipv4.neigh.default.gc_thresh1/2/3 (kernel-wide) above the number of neighbours",
      scenario: "neighbour-table-full",
      hostSysctls: {},
    },
    "udp-local-firewall": {
      change: "remove or narrow the OUTPUT rule that drops the datagrams (sendto() says EPERM)",
      scenario: "udp-local-firewall",
      hostSysctls: {},
    },
    "conntrack-table-full": {
      change:
        "raise net.netfilter.nf_conntrack_max (kernel-wide) and the hash size with it " +
        "(/sys/module/nf_conntrack/parameters/hashsize, or net.netfilter.nf_conntrack_buckets), " +
        "shorten the timeouts of idle flows (nf_conntrack_tcp_timeout_established, _time_wait), " +
        "or exempt traffic that needs no tracking (NOTRACK)",
      scenario: "conntrack-table-full",
      // A kernel-wide knob: `scenario new` sets it under kernelSysctls, not a node's.
      hostSysctls: {},
    },
  };

export interface WhatToTry {
  cause: CauseName;
  change: string;
  /** `scenarios/<name>.yaml`, when the catalog has one. */
  scenario?: string;
}

/** One entry per distinct cause named, in the diagnosis's order. */
export function whatToTry(causes: readonly { cause: CauseName }[]): WhatToTry[] {
  const seen = new Set<CauseName>();
  const out: WhatToTry[] = [];
  for (const { cause } of causes) {
    if (cause === "none" || cause === "unexplained" || seen.has(cause)) continue;
    seen.add(cause);
    const m = MITIGATIONS[cause];
    out.push({
      cause,
      change: m.change,
      ...(m.scenario ? { scenario: `scenarios/${m.scenario}.yaml` } : {}),
    });
  }
  return out;
}
