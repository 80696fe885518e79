/**
 * Rules of the way there: SYNs lost or rejected between the client's socket and the server's
 * listen socket — at the client's own firewall, on the path, at a SNAT gateway's conntrack, or
 * by a timestamp check (PAWS) against an older connection of the same 4-tuple.
 */
import {
  type DiagnosisContext,
  MANY,
  counterClaims,
  delta,
  describeStalls,
  joinParts,
  outcomeClaims,
} from "./view.js";

/** tcp_tw_recycle's per-host timestamp check; the knob and the counter are gone since 4.12. */
export function twRecycleRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  for (const g of ctx.listeners()) {
    const n = ctx.need(g, "TcpExtPAWSPassive", "tw-recycle-paws");
    if (n === undefined || n <= 0) continue;
    ctx.add({
      cause: "tw-recycle-paws",
      node: g.name,
      confidence: clients.connectStalls > 0 || n >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtPAWSPassive", n)}: SYNs rejected by tcp_tw_recycle's per-host ` +
          "timestamp check (clients behind one NAT share an address, not a timestamp clock)",
        describeStalls(clients),
      ),
      numbers: {
        TcpExtPAWSPassive: n,
        clientAttempts: clients.attempts,
        clientStalls: clients.connectStalls,
      },
      claims: [
        // Each rejected SYN is a ListenDrop too (4.11: +18 beside +18); any excess is left to
        // the SYN-queue rule, which subtracts PAWSPassive.
        ...counterClaims(g, "TcpExtPAWSPassive", "TcpExtListenDrops"),
        ...outcomeClaims(ctx.clients(), (o) => o.stallKeys),
      ],
    });
  }
}

/**
 * The gateway's conntrack still holds the old flow of a reused SNAT port (TIME_WAIT, 120 s):
 * the new SYN fails to insert and is dropped, +1 insert_failed and drop per SYN, retransmits
 * included. Nothing reaches the server.
 */
export function snatCollisionRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  const clientSynRetrans = ctx.sum(ctx.clients(), "TcpExtTCPSynRetrans");
  for (const g of ctx.byRole("gateway")) {
    const failed = ctx.need(g, "NfConntrackInsertFailed", "snat-conntrack-collision", {
      missingLine: (name) =>
        `${name}: no nf_conntrack statistics (NfConntrackInsertFailed absent: ` +
        "/proc/net/stat/nf_conntrack not read, or nf_conntrack not loaded): " +
        "snat-conntrack-collision not checked",
    });
    if (failed === undefined) continue;
    // Drops with no insert failing are a full table's (conntrackTableFullRule), not a clash.
    if (failed <= 0) continue;
    const drop = ctx.get(g, "NfConntrackDrop") ?? 0;
    const clash = ctx.get(g, "NfConntrackClashres") ?? 0;
    const stalled = clients.connectStalls + clients.slowConnects;
    const strong = stalled > 0 || clientSynRetrans > 0 || failed >= MANY;
    ctx.add({
      cause: "snat-conntrack-collision",
      node: g.name,
      confidence: strong ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("NfConntrackInsertFailed", failed)}, ${delta("NfConntrackDrop", drop)}` +
          (clash > 0 ? `, ${delta("NfConntrackClashres", clash)}` : "") +
          ": SYNs on a reused SNAT port clashed with the old flow still in the gateway's " +
          "conntrack and were dropped before reaching the server",
        describeStalls(clients),
        clientSynRetrans > 0 ? `clients ${delta("TcpExtTCPSynRetrans", clientSynRetrans)}` : "",
      ),
      numbers: {
        NfConntrackInsertFailed: failed,
        NfConntrackDrop: drop,
        clientAttempts: clients.attempts,
        clientStalls: stalled,
        clientSynRetrans,
      },
      claims: [
        ...counterClaims(g, "NfConntrackInsertFailed", "NfConntrackDrop"),
        ...outcomeClaims(ctx.clients(), (o) => o.stallKeys),
      ],
    });
  }
}

/**
 * A SYN for a 4-tuple the server still holds in TIME_WAIT, with an older timestamp: the server
 * answers with the old connection's ACK, the client resets it and its SYN ~10 ms later connects.
 * Slow, not failed (docs/kernel-behaviour.md#time_wait-paws).
 */
export function timewaitPawsRule(ctx: DiagnosisContext): void {
  const clientRsts = ctx.sum(ctx.clients(), "TcpOutRsts");
  const connectMs = ctx.evidence.clients.connectMs;
  for (const g of ctx.listeners()) {
    const n = ctx.need(g, "TcpExtPAWSTimewait", "timewait-paws");
    if (n === undefined || n <= 0) continue;
    ctx.add({
      cause: "timewait-paws",
      node: g.name,
      confidence: clientRsts > 0 || n >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtPAWSTimewait", n)}: SYNs met a TIME_WAIT socket of the same ` +
          "4-tuple with an older timestamp and got the old connection's ACK",
        clientRsts > 0
          ? `clients ${delta("TcpOutRsts", clientRsts)} (their RST cleared the TIME_WAIT and the retried SYN connected)`
          : "",
        connectMs ? `client connect p50 ${connectMs.p50} ms, max ${connectMs.max} ms` : "",
      ),
      numbers: {
        TcpExtPAWSTimewait: n,
        clientOutRsts: clientRsts,
        ...(connectMs
          ? { clientConnectP50Ms: connectMs.p50, clientConnectMaxMs: connectMs.max }
          : {}),
      },
      claims: [
        ...counterClaims(g, "TcpExtPAWSTimewait"),
        ...ctx.clients().flatMap((c) => counterClaims(c, "TcpOutRsts")),
      ],
    });
  }
}

/**
 * An OUTPUT drop on the node itself: connect() does not get EPERM (the first SYN's error is
 * ignored), the retransmits fail with it and count as TCPRetransFail, and the connect ends in
 * ETIMEDOUT after tcp_syn_retries (docs/kernel-behaviour.md#local-firewall).
 */
export function localFirewallRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const n = ctx.need(g, "TcpExtTCPRetransFail", "local-firewall");
    if (n === undefined || n <= 0) continue;
    const o = g.outcomes;
    const synRetrans = ctx.get(g, "TcpExtTCPSynRetrans") ?? 0;
    ctx.add({
      cause: "local-firewall",
      node: g.name,
      confidence: g.role === "client" && o.connectStalls > 0 ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtTCPRetransFail", n)}` +
          (synRetrans > 0 ? `, ${delta("TcpExtTCPSynRetrans", synRetrans)}` : "") +
          ": the node's own stack refused to send retransmissions (a local OUTPUT drop)",
        o.connectStalls > 0
          ? `${o.connectStalls} of ${o.attempts} attempts timed out while connecting (ETIMEDOUT, not EPERM)`
          : "",
      ),
      numbers: {
        TcpExtTCPRetransFail: n,
        TcpExtTCPSynRetrans: synRetrans,
        attempts: o.attempts,
        stalls: o.connectStalls,
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPRetransFail"),
        ...outcomeClaims([g], (x) => x.stallKeys),
      ],
    });
  }
}

/** Counters on a listener that prove SYNs reached its stack (SYN-ACK retransmits included). */
const SYN_TRACE = [
  "TcpExtListenDrops",
  "TcpExtListenOverflows",
  "TcpExtTCPReqQFullDrop",
  "TcpExtTCPReqQFullDoCookies",
  "TcpExtSyncookiesSent",
  "TcpOutRsts",
  "TcpExtPAWSTimewait",
  "TcpExtTCPSynRetrans",
] as const;

/**
 * SYNs dropped before any stack saw them (a firewall, the path): the clients retransmit and time
 * out while the server's counters stay flat. Runs after the rules that explain stalls otherwise
 * (a full queue, the gateway, the client's own firewall) and only takes the stalls left over.
 */
export function synBlackholeRule(ctx: DiagnosisContext): void {
  const servers = ctx.listeners().filter((g) => g.collected);
  const passive = ctx.sum(servers, "TcpPassiveOpens");
  const trace = SYN_TRACE.map((c) => [c, ctx.sum(servers, c)] as const).filter(([, v]) => v > 0);
  const connected = ctx.clientOutcomes().connected;
  const serverNames = servers.map((s) => s.name).join(", ");
  // A server capture settles it: no SYN on the server's wire means the path dropped it; SYNs on
  // the wire with the stack flat mean a firewall on the server itself (before TCP).
  const captured = servers.flatMap((g) =>
    g.members.map((m) => ctx.evidence.nodes[m]?.packets).filter((p) => p !== undefined),
  );
  const synsOnWire = captured.reduce((n, p) => n + p.synReceived, 0);
  // A gateway whose conntrack was not read could have dropped the SYNs itself.
  const unreadGateways = ctx
    .byRole("gateway")
    .filter((g) => ctx.get(g, "NfConntrackInsertFailed") === undefined)
    .map((g) => g.name);
  for (const g of ctx.clients()) {
    const keys = g.outcomes.stallKeys.filter((k) => !ctx.claimed({ group: g.name, outcome: k }));
    const synRetrans = ctx.need(g, "TcpExtTCPSynRetrans", "syn-blackhole");
    if (keys.length === 0 || synRetrans === undefined || synRetrans <= 0) continue;
    const stalled = keys.reduce((n, k) => n + (g.outcomes.failed.get(k) ?? 0), 0);
    const attemptFails = ctx.get(g, "TcpAttemptFails") ?? 0;
    const clientPart =
      `${g.name}: ${stalled} of ${g.outcomes.attempts} attempts timed out while connecting, ` +
      `${delta("TcpExtTCPSynRetrans", synRetrans)}, ${delta("TcpAttemptFails", attemptFails)}`;
    let serverPart: string;
    let confidence: "strong" | "weak";
    if (servers.length === 0) {
      serverPart = "no server counters to confirm that the SYNs never arrived";
      confidence = "weak";
    } else if (trace.length === 0 && passive <= connected) {
      serverPart =
        `${serverNames} flat (${delta("TcpPassiveOpens", passive)}` +
        (connected > 0 ? ` for the ${connected} that connected` : "") +
        ", no listen drops, resets or SYN-ACK retransmits): the SYNs never reached the server's stack";
      confidence = unreadGateways.length > 0 ? "weak" : "strong";
      if (unreadGateways.length > 0)
        serverPart += ` (but ${unreadGateways.join(", ")}'s conntrack was not read: a drop at the NAT is not excluded)`;
      if (captured.length > 0 && synsOnWire === 0) {
        serverPart += `; ${serverNames}'s capture saw no SYN at all: dropped on the path`;
        confidence = "strong";
      } else if (captured.length > 0) {
        serverPart += `; ${serverNames}'s capture saw ${synsOnWire} SYNs arrive: dropped on the server before TCP (a firewall there)`;
      }
    } else {
      ctx.hint(
        g.name,
        `the server saw SYNs (${trace.map(([c, v]) => delta(c, v)).join(", ") || delta("TcpPassiveOpens", passive)}), so not a blackhole`,
      );
      continue;
    }
    ctx.add({
      cause: "syn-blackhole",
      node: g.name,
      confidence,
      because: joinParts(clientPart, serverPart),
      numbers: {
        stalls: stalled,
        attempts: g.outcomes.attempts,
        TcpExtTCPSynRetrans: synRetrans,
        TcpAttemptFails: attemptFails,
        ...(servers.length > 0 ? { serverPassiveOpens: passive } : {}),
        ...(captured.length > 0 ? { serverSynsCaptured: synsOnWire } : {}),
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPSynRetrans", "TcpAttemptFails"),
        ...keys.map((outcome) => ({ group: g.name, outcome })),
      ],
    });
  }
}
