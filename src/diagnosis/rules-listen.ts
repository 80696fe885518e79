/**
 * Rules of the listening side: what happened to SYNs and final ACKs at a listen socket.
 *
 * The kernel's accounting (tcp_conn_request, tcp_v4_syn_recv_sock, tcp_check_req):
 * - accept queue full when a SYN or a final ACK arrives → ListenOverflows and ListenDrops, +1 each;
 * - SYN queue full, syncookies off → TCPReqQFullDrop and ListenDrops; syncookies on →
 *   TCPReqQFullDoCookies and SyncookiesSent instead, and no drop;
 * - syncookies off and the SYN queue in its last quarter of tcp_max_syn_backlog → ListenDrops
 *   alone (docs/kernel-behaviour.md#syn-queue-overflow-and-syn-floods: listen(128) gave ListenDrops +2087, TCPReqQFullDrop 0);
 * - tcp_abort_on_overflow=1 and a final ACK meets a full accept queue → ListenOverflows plus an
 *   RST: TcpOutRsts and EmbryonicRsts.
 * - tcp_tw_recycle (4.11 and older) rejecting a SYN by PAWS → PAWSPassive and ListenDrops
 *   (measured on 4.11: +18 each): a refusal of the peer, not a full queue.
 * So ListenDrops − ListenOverflows − PAWSPassive is the SYN-queue part, and EmbryonicRsts
 * (capped by the resets actually sent) is the abort part of ListenOverflows.
 */
import {
  type DiagnosisContext,
  type Group,
  MANY,
  counterClaims,
  delta,
  describeStalls,
  joinParts,
  outcomeClaims,
  plural,
} from "./view.js";

export function acceptQueueRules(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  for (const g of ctx.listeners()) {
    const overflows = ctx.need(g, "TcpExtListenOverflows", "accept-queue-overflow");
    ctx.need(g, "TcpExtListenOverflows", "abort-on-overflow");
    const embryonic = ctx.need(g, "TcpExtEmbryonicRsts", "abort-on-overflow");
    const outRsts = ctx.need(g, "TcpOutRsts", "abort-on-overflow");
    if (overflows === undefined || overflows <= 0) continue;
    const drops = ctx.get(g, "TcpExtListenDrops") ?? 0;

    // EmbryonicRsts also counts RSTs *received* for half-open connections: only the part
    // matched by resets this node sent can be aborts.
    let aborted = Math.min(overflows, embryonic ?? 0, outRsts ?? 0);
    const resets = clients.resetAfterConnect;
    // With clients recorded, an abort shows as their ECONNRESET after connecting; without it
    // the counters alone do not make an abort.
    if (ctx.hasClientEvidence && resets === 0) aborted = 0;
    if (aborted > 0) {
      ctx.add({
        cause: "abort-on-overflow",
        node: g.name,
        confidence: resets > 0 ? "strong" : "weak",
        because:
          `${g.name}: ${delta("TcpExtListenOverflows", overflows)}, ${delta("TcpOutRsts", outRsts ?? 0)}, ` +
          `${delta("TcpExtEmbryonicRsts", embryonic ?? 0)}: final ACKs met a full accept queue and ` +
          `were answered with RST (tcp_abort_on_overflow=1)` +
          (resets > 0
            ? `; ${plural(resets, "client attempt")} ECONNRESET after connecting`
            : "; no client outcomes to confirm"),
        numbers: {
          TcpExtListenOverflows: overflows,
          TcpOutRsts: outRsts ?? 0,
          TcpExtEmbryonicRsts: embryonic ?? 0,
          aborted,
          clientResetsAfterConnect: resets,
        },
        claims: [
          ...counterClaims(g, "TcpExtListenOverflows", "TcpExtListenDrops", "TcpOutRsts"),
          ...outcomeClaims(ctx.clients(), (o) => o.keys("ECONNRESET", ["reply", "done"])),
        ],
      });
    }

    const dropped = overflows - aborted;
    if (dropped <= 0) continue;
    const queue = describeQueue(g);
    // Beside a SYN flood the cause needs its own evidence: many overflows, or a queue seen
    // over its limit. A few stray overflows then (ListenOverflows +1 beside ListenDrops +1994,
    // all but one of them TCPReqQFullDrop) are the flood's, and its rules claim them.
    if (isStray(ctx, g, dropped)) continue;
    const stalls = describeStalls(clients);
    const clientSynRetrans = ctx.sum(ctx.clients(), "TcpExtTCPSynRetrans");
    const strong =
      queue.overLimit || clients.connectStalls + clients.slowConnects > 0 || dropped >= MANY;
    ctx.add({
      cause: "accept-queue-overflow",
      node: g.name,
      confidence: strong ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtListenOverflows", overflows)}, ${delta("TcpExtListenDrops", drops)}` +
          (aborted > 0 ? ` (${aborted} of them aborts, see abort-on-overflow)` : "") +
          (queue.text ? `, ${queue.text}` : "") +
          ": connections were dropped because the accept queue was full (the app accepts too slowly or not at all)",
        stalls,
        clientSynRetrans > 0 ? `clients ${delta("TcpExtTCPSynRetrans", clientSynRetrans)}` : "",
        clients.noReply > 0 ? `${clients.noReply} connected but never got a reply` : "",
      ),
      numbers: {
        TcpExtListenOverflows: overflows,
        TcpExtListenDrops: drops,
        ...(queue.max !== undefined
          ? { acceptQueueMax: queue.max, acceptQueueLimit: queue.limit! }
          : {}),
        clientAttempts: clients.attempts,
        clientStalls: clients.connectStalls + clients.slowConnects,
        clientNoReply: clients.noReply,
        clientSynRetrans,
      },
      claims: [
        ...counterClaims(g, "TcpExtListenOverflows", "TcpExtListenDrops"),
        ...outcomeClaims(ctx.clients(), (o) => [...o.stallKeys, ...o.keys("noReply")]),
      ],
    });
  }
}

/** "accept queue 5 of 4 (port 8080)": the fullest sampled listen socket. */
function describeQueue(g: Group): {
  text: string;
  overLimit: boolean;
  max?: number;
  limit?: number;
} {
  let best: { port: number; max: number; limit: number } | undefined;
  for (const l of g.listen) {
    const ports = new Set([...Object.keys(l.maxRecvQ).map(Number), ...l.final.map((s) => s.port)]);
    for (const port of ports) {
      const final = l.final.find((s) => s.port === port);
      const max = Math.max(l.maxRecvQ[port] ?? 0, final?.recvQ ?? 0);
      const limit = l.sendQ[port] ?? final?.sendQ ?? 0;
      if (!best || max - limit > best.max - best.limit) best = { port, max, limit };
    }
  }
  if (!best) return { text: "", overLimit: false };
  // The kernel calls the queue full when it holds one more than the limit (Recv-Q = Send-Q + 1).
  const overLimit = best.max > best.limit;
  return {
    text: overLimit
      ? `accept queue ${best.max} of ${best.limit} (port ${best.port})`
      : `accept queue peaked at ${best.max} of ${best.limit} (port ${best.port}, sampled)`,
    overLimit,
    max: best.max,
    limit: best.limit,
  };
}

export function synQueueRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  for (const g of ctx.listeners()) {
    const reqDrop = ctx.need(g, "TcpExtTCPReqQFullDrop", "syn-queue-overflow", {
      consequence: "syn-queue-overflow judged by ListenDrops − ListenOverflows only",
    });
    const drops = ctx.need(g, "TcpExtListenDrops", "syn-queue-overflow");
    if (reqDrop === undefined && drops === undefined) continue;
    const overflows = ctx.get(g, "TcpExtListenOverflows") ?? 0;
    const sentCookies = ctx.get(g, "TcpExtSyncookiesSent") ?? 0;
    const cookies = Math.max(sentCookies, ctx.get(g, "TcpExtTCPReqQFullDoCookies") ?? 0);
    // Drops at SYN time that neither the accept queue nor tw_recycle's PAWS accounts for.
    const paws = ctx.get(g, "TcpExtPAWSPassive") ?? 0;
    const excess = (drops ?? 0) - overflows - paws;
    const byReqQ = (reqDrop ?? 0) > 0;
    // "Well above": a few stray ListenDrops have other causes; a flood makes thousands.
    const byLastQuarter = !byReqQ && cookies === 0 && excess >= MANY && excess >= overflows;
    if (!byReqQ && !byLastQuarter) continue;

    const stalls = describeStalls(clients);
    const synRecv = Math.max(0, ...g.listen.map((l) => l.maxSynRecv));
    const counted = byReqQ
      ? `${delta("TcpExtTCPReqQFullDrop", reqDrop!)}, ${delta("TcpExtListenDrops", drops ?? 0)}, ` +
        `${delta("TcpExtListenOverflows", overflows)}: SYNs dropped because the SYN queue was full ` +
        "and syncookies were off"
      : `${delta("TcpExtListenDrops", drops ?? 0)} against ${delta("TcpExtListenOverflows", overflows)}` +
        `, ${reqDrop === undefined ? "TcpExtTCPReqQFullDrop absent" : delta("TcpExtTCPReqQFullDrop", 0)}` +
        " and no syncookies sent: SYNs dropped short of a full SYN queue (with syncookies off the " +
        "last quarter of tcp_max_syn_backlog is kept for peers the kernel has seen before)";
    ctx.add({
      cause: "syn-queue-overflow",
      node: g.name,
      confidence:
        (reqDrop ?? 0) >= MANY || byLastQuarter || clients.connectStalls > 0 ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${counted}`,
        byReqQ && cookies > 0
          ? `syncookies were sent as well (${delta("TcpExtSyncookiesSent", sentCookies)})`
          : "",
        synRecv > 0 ? `up to ${synRecv} half-open (SYN_RECV)` : "",
        stalls,
      ),
      numbers: {
        TcpExtTCPReqQFullDrop: reqDrop ?? 0,
        TcpExtListenDrops: drops ?? 0,
        TcpExtListenOverflows: overflows,
        synDrops: byReqQ ? reqDrop! : excess,
        ...(synRecv > 0 ? { maxSynRecv: synRecv } : {}),
        clientAttempts: clients.attempts,
        clientStalls: clients.connectStalls + clients.slowConnects,
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPReqQFullDrop", "TcpExtListenDrops"),
        ...strayOverflows(ctx, g),
        ...outcomeClaims(ctx.clients(), (o) => o.stallKeys),
      ],
    });
  }
}

export function synCookiesRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  for (const g of ctx.listeners()) {
    const sent = ctx.need(g, "TcpExtSyncookiesSent", "syn-flood-cookies", {
      consequence: "syn-flood-cookies judged by TCPReqQFullDoCookies only",
    });
    const doCookies = ctx.need(g, "TcpExtTCPReqQFullDoCookies", "syn-flood-cookies", {
      consequence: "syn-flood-cookies judged by SyncookiesSent only",
    });
    const n = Math.max(sent ?? 0, doCookies ?? 0);
    if (n <= 0) continue;
    const recv = ctx.get(g, "TcpExtSyncookiesRecv") ?? 0;
    const failed = ctx.get(g, "TcpExtSyncookiesFailed") ?? 0;
    ctx.add({
      cause: "syn-flood-cookies",
      node: g.name,
      confidence: n >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtSyncookiesSent", sent ?? 0)}, ${delta("TcpExtTCPReqQFullDoCookies", doCookies ?? 0)}` +
          `, ${delta("TcpExtSyncookiesRecv", recv)}: the SYN queue was full and syncookies answered ` +
          "(the mitigation working)",
        failed > 0
          ? `${delta("TcpExtSyncookiesFailed", failed)} (cookies that did not validate)`
          : "",
        clients.attempts > 0
          ? `${clients.connected} of ${clients.attempts} client attempts connected` +
              (clients.slowConnects > 0 ? ` (${clients.slowConnects} after ≥1 s)` : "")
          : "",
      ),
      numbers: {
        TcpExtSyncookiesSent: sent ?? 0,
        TcpExtTCPReqQFullDoCookies: doCookies ?? 0,
        TcpExtSyncookiesRecv: recv,
        TcpExtSyncookiesFailed: failed,
        clientAttempts: clients.attempts,
        clientConnected: clients.connected,
      },
      claims: [
        ...counterClaims(g, "TcpExtSyncookiesSent", "TcpExtTCPReqQFullDoCookies"),
        ...strayOverflows(ctx, g),
      ],
    });
  }
}

/** Counters of a SYN flood past the threshold: SYN-queue drops or cookies. */
function floodSeen(ctx: DiagnosisContext, g: Group): boolean {
  const c = (name: string) => ctx.get(g, name) ?? 0;
  const synDrops = Math.max(
    c("TcpExtTCPReqQFullDrop"),
    c("TcpExtListenDrops") - c("TcpExtListenOverflows"),
  );
  const cookies = Math.max(c("TcpExtSyncookiesSent"), c("TcpExtTCPReqQFullDoCookies"));
  return synDrops >= MANY || cookies >= MANY;
}

/**
 * A flood's handful of ListenOverflows (fewer than MANY, the accept queue never seen over its
 * limit): final ACKs that met a momentarily full queue while the app was busy, incidental to
 * the flood. Without a flood, a few overflows stay a (weak) accept-queue-overflow.
 */
function isStray(ctx: DiagnosisContext, g: Group, overflows: number): boolean {
  return overflows > 0 && overflows < MANY && !describeQueue(g).overLimit && floodSeen(ctx, g);
}

/** The flood's rule claims stray overflows, and the ListenDrops they counted. */
function strayOverflows(ctx: DiagnosisContext, g: Group): ReturnType<typeof counterClaims> {
  const overflows = ctx.get(g, "TcpExtListenOverflows") ?? 0;
  return isStray(ctx, g, overflows)
    ? counterClaims(g, "TcpExtListenOverflows", "TcpExtListenDrops")
    : [];
}
