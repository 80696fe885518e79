/**
 * Rules of what happens to segments and datagrams on their way: loss on the path and the
 * retransmits that repair it, small writes held by Nagle until a delayed ACK, and sends the
 * local kernel refuses at once (an output firewall rule; a full neighbour table).
 */
import { percentile } from "../evidence/clients.js";
import {
  type DiagnosisContext,
  type Group,
  MANY,
  delta,
  joinParts,
  counterClaims,
  outcomeClaims,
  plural,
} from "./view.js";

/**
 * The delayed-ACK timer's floor on Linux (TCP_DELACK_MIN, HZ/25) and its ceiling
 * (TCP_DELACK_MAX, HZ/5): a request that waits for a delayed ACK takes 40 to 200 ms more.
 */
const DELACK_MIN_MS = 40;
const DELACK_MAX_MS = 200;

/** Round trips of a group's connections with `requests`, ms (one median per connection). */
function requestTimes(ctx: DiagnosisContext, g: Group): number[] {
  return ctx.evidence.attempts
    .filter((a) => g.members.includes(a.node) && a.requestMs !== undefined)
    .map((a) => a.requestMs!)
    .sort((a, b) => a - b);
}

/**
 * Write-write-read: the client's second small write waits (Nagle) until its first is ACKed, and
 * the server delays that ACK (it has no reply to carry it before the whole request is in). Each
 * request then takes the delayed-ACK timer, ≥ 40 ms, however short the path — the handshake's
 * own round trip shows how short. The server counts TcpExtDelayedACKs.
 */
export function delayedAckRule(ctx: DiagnosisContext): void {
  const delayed = ctx.sum(ctx.listeners(), "TcpExtDelayedACKs");
  for (const g of ctx.clients()) {
    const times = requestTimes(ctx, g);
    if (times.length === 0) continue;
    const p50 = percentile(times, 50);
    const connects = ctx.evidence.attempts
      .filter((a) => g.members.includes(a.node) && a.connectMs !== undefined)
      .map((a) => a.connectMs!);
    // The path's round trip: the quickest handshake. (Not the median: under emulation, a VM on
    // TCG, ten concurrent handshakes had a median of 15-25 ms on a path with no delay at all,
    // against the timer's 44 ms; the quickest took a few ms.)
    const rtt = connects.length > 0 ? Math.min(...connects) : 0;
    // Most of the time is the timer, not the path: the quickest handshake took under half of
    // it — or the server delayed ACKs over and over (no nodelay run counts any) while the
    // handshakes measured the machine rather than the path (on an emulated vCPU shared with three
    // other variants, ten concurrent handshakes all took 26–87 ms, requests 47–54 ms).
    const inWindow = p50 >= DELACK_MIN_MS * 0.9 && p50 <= DELACK_MAX_MS * 1.25;
    const timer = inWindow && (rtt * 2 < p50 || delayed >= 2 * times.length);
    if (!timer) continue;
    ctx.add({
      cause: "delayed-ack-nagle",
      node: g.name,
      confidence: delayed >= times.length ? "strong" : "weak",
      because: joinParts(
        `${g.name}: request round trip p50 ${p50.toFixed(1)} ms over ${plural(times.length, "connection")}, ` +
          `quickest handshake ${rtt.toFixed(2)} ms: each request waited for the delayed-ACK timer ` +
          `(${DELACK_MIN_MS}–${DELACK_MAX_MS} ms) — its second small write was held by Nagle until the first was ACKed`,
        `servers ${delta("TcpExtDelayedACKs", delayed)}`,
      ),
      numbers: {
        requestP50Ms: p50,
        connectMinMs: rtt,
        connections: times.length,
        TcpExtDelayedACKs: delayed,
      },
      claims: [],
    });
  }
}

/**
 * Segments lost on the path and repaired by retransmits. A path that loses some packets (not
 * all: that is a blackhole or a dead peer) shows fast retransmits — later segments got through
 * and their duplicate ACKs or SACKs reported the hole. The sender's TcpRetransSegs breaks down
 * into TCPFastRetrans + TCPSlowStartRetrans + TCPTimeouts (RTO) + part of TCPLossProbes (tail
 * loss probes that resent data), and TCPSynRetrans for handshakes.
 */
/** Data retransmits per segment sent from which the path counts as lossy (1 %). */
const LOSSY_MIN_RATE = 0.01;

export function lossyPathRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const retrans = ctx.get(g, "TcpRetransSegs");
    const fast = ctx.get(g, "TcpExtTCPFastRetrans");
    if (retrans === undefined || fast === undefined) continue;
    const syn = ctx.get(g, "TcpExtTCPSynRetrans") ?? 0;
    const data = retrans - syn;
    if (fast <= 0 || data < MANY) continue;
    // A rate, not a count: a healthy path on a busy machine repairs a few drops of its own
    // (8 MB each way through veths and a NAT gateway on two loaded cores: one run in two of the
    // no-loss variant retransmitted), while 5 % random loss resent 3.7-4.9 % of the segments.
    const sent = ctx.get(g, "TcpOutSegs");
    if (sent !== undefined && data < sent * LOSSY_MIN_RATE) continue;
    const parts = [
      "TcpExtTCPFastRetrans",
      "TcpExtTCPSlowStartRetrans",
      "TcpExtTCPTimeouts",
      "TcpExtTCPLossProbes",
      "TcpExtTCPSynRetrans",
    ].map((c) => [c, ctx.get(g, c) ?? 0] as const);
    ctx.add({
      cause: "lossy-path",
      node: g.name,
      confidence: fast >= MANY ? "strong" : "weak",
      because:
        `${g.name}: ${delta("TcpRetransSegs", retrans)} — ` +
        parts.map(([c, v]) => delta(c, v)).join(", ") +
        ": segments were lost on the path and retransmitted (fast retransmits: later segments " +
        "got through, so the loss was partial)",
      numbers: { TcpRetransSegs: retrans, ...Object.fromEntries(parts) },
      claims: [],
    });
  }
}

/**
 * A send() the local kernel refuses at once with EPERM: an output firewall rule dropped the
 * datagram (netfilter's NF_DROP on the output path comes back to the caller as EPERM). UDP
 * sees it on every send; TCP's connect() does not — the SYN retransmits and ends in ETIMEDOUT
 * (see local-firewall).
 */
export function udpFirewallRule(ctx: DiagnosisContext): void {
  for (const g of ctx.clients()) {
    const n = g.outcomes.count("EPERM");
    if (n === 0) continue;
    const tcpTimeouts = g.outcomes.count("ETIMEDOUT", ["connect"]);
    ctx.add({
      cause: "udp-local-firewall",
      node: g.name,
      confidence: "strong",
      because: joinParts(
        `${g.name}: ${n} of ${g.outcomes.attempts} attempts EPERM at send(), at once: a local ` +
          "output firewall rule dropped the datagrams (UDP gets EPERM; TCP retransmits and times out)",
        tcpTimeouts > 0 ? `${plural(tcpTimeouts, "TCP attempt")} ETIMEDOUT meanwhile` : "",
      ),
      numbers: { eperm: n, attempts: g.outcomes.attempts, tcpConnectTimeouts: tcpTimeouts },
      claims: outcomeClaims([g], (o) => o.keys("EPERM")),
    });
  }
}

/**
 * Datagrams the kernel dropped on their way out because it could not create a neighbour (ARP)
 * entry for the next hop: the table is past gc_thresh3 and nothing could be collected
 * ("neighbor table overflow", drop reason NEIGH_CREATEFAIL). The gc_thresh knobs are global to
 * the kernel. What the sender sees depends on the kernel (docs/kernel-behaviour.md, "Neighbour
 * table full"): send() fails with EINVAL before Linux 6.5 and its stable backports; since, with
 * ENOBUFS — which UDP reports only on a socket with IP_RECVERR and otherwise swallows: send()
 * succeeds, the datagram is gone, and only UdpSndbufErrors counts it. ENOBUFS and the swallowed
 * drops name this cause only when the kernel's drop reasons say NEIGH_CREATEFAIL (a full qdisc
 * gives ENOBUFS too); when drop reasons could not be traced, ENOBUFS names it weakly. Where the
 * table's own statistics were read (a host snapshot: /proc/net/stat/arp_cache exists only in the
 * initial namespace), `table_fulls` counts the entries that could not be created.
 */
export function neighbourTableRule(ctx: DiagnosisContext): void {
  tableFullsRule(ctx);
  failedSendsRule(ctx);
}

/** `table_fulls` moved: entries were refused, whatever the senders were told. */
function tableFullsRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const fulls = ctx.get(g, "ArpCacheTableFulls") ?? 0;
    if (fulls <= 0) continue;
    ctx.add({
      cause: "neighbour-table-full",
      node: g.name,
      confidence: "strong",
      because:
        `${g.name}: ${delta("ArpCacheTableFulls", fulls)} (/proc/net/stat/arp_cache table_fulls): ` +
        `the neighbour table was past gc_thresh3 and ${fulls === 1 ? "1 entry" : `${fulls} entries`} could not ` +
        "be created; what was sent to those next hops was dropped (send() says EINVAL before " +
        "Linux 6.5; since, ENOBUFS — or nothing at all, for UDP without IP_RECVERR)",
      numbers: { ArpCacheTableFulls: fulls },
      claims: counterClaims(g, "ArpCacheTableFulls"),
    });
  }
}

/** The clients' sends that failed, or vanished behind a send() that succeeded. */
function failedSendsRule(ctx: DiagnosisContext): void {
  const traced = ctx.evidence.dropReasons?.counts ?? null;
  const confirmed = (traced?.["NEIGH_CREATEFAIL"] ?? 0) > 0;
  const why =
    "no neighbour entry could be created for the next hop (the neighbour table is past " +
    "gc_thresh3, global to the kernel)";
  for (const g of ctx.clients()) {
    const einval = g.outcomes.count("EINVAL");
    const enobufsAll = g.outcomes.count("ENOBUFS");
    const enobufs = confirmed || traced === null ? enobufsAll : 0;
    // UdpSndbufErrors counts every ENOBUFS, reported or not.
    const silent = confirmed ? Math.max(0, (ctx.get(g, "UdpSndbufErrors") ?? 0) - enobufsAll) : 0;
    if (einval + enobufs + silent === 0) continue;
    const failed = einval + enobufs;
    const errnos = [
      ...(einval > 0 ? [`EINVAL ×${einval}`] : []),
      ...(enobufs > 0 ? [`ENOBUFS ×${enobufs}`] : []),
    ];
    ctx.add({
      cause: "neighbour-table-full",
      node: g.name,
      confidence: confirmed || einval >= MANY ? "strong" : "weak",
      because: joinParts(
        failed > 0
          ? `${g.name}: ${failed} of ${g.outcomes.attempts} attempts failed at send() (${errnos.join(", ")}): ${why}`
          : `${g.name}: ${delta("UdpSndbufErrors", silent)}: datagrams dropped on their way out ` +
              `while send() reported success (no IP_RECVERR): ${why}`,
        failed > 0 && silent > 0 ? `${delta("UdpSndbufErrors", silent)} more dropped silently` : "",
      ),
      numbers: { einval, enobufs, silentDrops: silent, attempts: g.outcomes.attempts },
      claims: [
        ...outcomeClaims([g], (o) => [
          ...o.keys("EINVAL"),
          ...(enobufs > 0 ? o.keys("ENOBUFS") : []),
        ]),
        ...(silent > 0 ? counterClaims(g, "UdpSndbufErrors") : []),
      ],
    });
  }
}
