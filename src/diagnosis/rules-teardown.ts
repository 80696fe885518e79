/**
 * Rules of connections that outlive their use: sockets the app never closes (CLOSE_WAIT), more
 * TIME_WAIT sockets than the kernel keeps, and idle connections to a peer that is gone.
 */
import type { TcpState } from "../evidence/tcp-states.js";
import {
  type DiagnosisContext,
  type Group,
  MANY,
  counterClaims,
  delta,
  joinParts,
  outcomeClaims,
  plural,
} from "./view.js";

/** Sockets of a group in `state`: the most at once (members' maxima summed) and at the end. */
function sockets(g: Group, state: TcpState): { max: number; final: number } {
  return {
    max: g.sockets.reduce((n, s) => n + (s.max[state] ?? 0), 0),
    final: g.sockets.reduce((n, s) => n + (s.final[state] ?? 0), 0),
  };
}

/**
 * The peer closed (its FIN arrived) and the app never called close(): the socket stays in
 * CLOSE_WAIT, holding its fd, for as long as the process lives. No counter moves: only the
 * socket states show it. The closing peer waits in FIN_WAIT2 (up to tcp_fin_timeout once its
 * own app has closed). A few CLOSE_WAIT sockets in passing are normal; many that stay are not.
 * Connections still in the accept queue go to CLOSE_WAIT too when their client closes: those
 * the app never accepted (Recv-Q of its listen socket at the end) are not a leak of its own.
 */
export function closeWaitLeakRule(ctx: DiagnosisContext): void {
  const sampled = ctx.groups.filter((g) => g.sockets.length > 0);
  for (const g of sampled) {
    const cw = sockets(g, "CLOSE_WAIT");
    const queued = g.listen.reduce((n, l) => n + l.final.reduce((m, s) => m + s.recvQ, 0), 0);
    const held = cw.final - queued;
    if (cw.max < MANY || held < Math.max(MANY / 2, cw.max / 2)) continue;
    const peers = sampled
      .filter((o) => o !== g)
      .map((o) => [o.name, sockets(o, "FIN_WAIT2").max] as const)
      .filter(([, n]) => n > 0);
    ctx.add({
      cause: "close-wait-leak",
      node: g.name,
      confidence: held >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${plural(cw.max, "socket")} in CLOSE_WAIT at most, ${cw.final} still at the end` +
          (queued > 0 ? ` (${queued} of them never accepted)` : "") +
          ": the peers closed and the app never called close() (each one holds an fd)",
        peers.length > 0
          ? `the closing side waits in FIN_WAIT2 (${peers.map(([n, v]) => `${n} ${v}`).join(", ")}; ` +
              "tcp_fin_timeout bounds it once orphaned)"
          : "",
      ),
      numbers: {
        closeWaitMax: cw.max,
        closeWaitFinal: cw.final,
        closeWaitUnaccepted: queued,
        peerFinWait2Max: peers.reduce((n, [, v]) => n + v, 0),
      },
      claims: [],
    });
  }
}

/**
 * More connections closed on this side than tcp_max_tw_buckets (per network namespace) allows
 * in TIME_WAIT: the kernel skips TIME_WAIT for the rest, destroys them at once and counts
 * TcpExtTCPTimeWaitOverflow ("time wait bucket table overflow"). Usually harmless; their
 * 4-tuples lose TIME_WAIT's protection against old duplicates.
 */
export function twBucketOverflowRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const n = ctx.need(g, "TcpExtTCPTimeWaitOverflow", "tw-bucket-overflow");
    if (n === undefined || n <= 0) continue;
    const tw = sockets(g, "TIME_WAIT").max;
    ctx.add({
      cause: "tw-bucket-overflow",
      node: g.name,
      confidence: n >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtTCPTimeWaitOverflow", n)}: connections this side closed first ` +
          "skipped TIME_WAIT because tcp_max_tw_buckets was reached (destroyed at once)",
        g.sockets.length > 0 ? `at most ${tw} sockets in TIME_WAIT at once` : "",
      ),
      numbers: { TcpExtTCPTimeWaitOverflow: n, timeWaitMax: tw },
      claims: counterClaims(g, "TcpExtTCPTimeWaitOverflow"),
    });
  }
}

/**
 * SO_KEEPALIVE found an idle connection's peer gone: TCPKeepAlive counts the probes, and after
 * TCP_KEEPCNT unanswered ones the kernel aborts it (TCPAbortOnTimeout) with ETIMEDOUT — after
 * idle + probes × interval. That is the safeguard working, not the failure: the failure is the
 * connection that hangs because nothing probes it (idleHangRule). So this names no cause; it
 * explains the aborts and their ETIMEDOUTs, and the `none` verdict says so. Runs before
 * retransmit-timeout, which takes the aborts left over.
 */
export function keepaliveAbortRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const probes = ctx.get(g, "TcpExtTCPKeepAlive") ?? 0;
    const aborts = ctx.get(g, "TcpExtTCPAbortOnTimeout") ?? 0;
    const established = aborts - g.outcomes.count("ETIMEDOUT", ["connect"]);
    // Every aborted connection sent its probes first: at least one per abort.
    if (probes <= 0 || established <= 0 || probes < established) continue;
    const failed = g.outcomes.count("ETIMEDOUT", ["reply", "done"]);
    ctx.handle({
      node: g.name,
      because: joinParts(
        `${g.name}: ${delta("TcpExtTCPKeepAlive", probes)}, ${delta("TcpExtTCPAbortOnTimeout", aborts)}: ` +
          `keepalive found the peers of ${plural(established, "idle connection")} gone and the ` +
          "kernel aborted them (after idle + probes × interval), as SO_KEEPALIVE is meant to: " +
          "nothing hung",
        failed > 0 ? `${plural(failed, "attempt")} saw ETIMEDOUT on an established connection` : "",
      ),
      numbers: {
        TcpExtTCPKeepAlive: probes,
        TcpExtTCPAbortOnTimeout: aborts,
        keepaliveAborts: failed,
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPAbortOnTimeout"),
        ...outcomeClaims([g], (o) => o.keys("ETIMEDOUT", ["reply", "done"])),
      ],
    });
  }
}

/**
 * Connected clients that waited for a reply until their own bound, on connections that stayed
 * idle: no keepalive probe went out, and nothing was retransmitted while they waited. Without
 * SO_KEEPALIVE nothing in the kernel ever finds out whether the peer is still there: such a
 * connection hangs forever. When the client then gave up and closed, its FIN went unanswered
 * too (the socket is still in FIN_WAIT1, its retransmits the only ones): the peer is gone, not
 * just silent — strong. Without that, the counters cannot tell a vanished peer from an app that
 * never answers — weak. Runs last, on what no rule claimed.
 */
export function idleHangRule(ctx: DiagnosisContext): void {
  for (const g of ctx.clients()) {
    const keys = g.outcomes
      .keys("noReply")
      .filter((k) => !ctx.claimed({ group: g.name, outcome: k }));
    const hung = keys.reduce((n, k) => n + (g.outcomes.failed.get(k) ?? 0), 0);
    if (hung === 0) continue;
    const probes = ctx.get(g, "TcpExtTCPKeepAlive");
    if (probes === undefined || probes > 0) continue;
    const retrans = (ctx.get(g, "TcpRetransSegs") ?? 0) - (ctx.get(g, "TcpExtTCPSynRetrans") ?? 0);
    const unansweredFins = sockets(g, "FIN_WAIT1").final;
    // Retransmits are the closing FINs' only when FINs are still waiting: then the peer is gone.
    const finsOnly = unansweredFins >= hung;
    if (retrans > 0 && !finsOnly) continue;
    ctx.add({
      cause: "keepalive-dead-peer",
      node: g.name,
      confidence: finsOnly ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${hung} of ${g.outcomes.attempts} connected attempts waited for a reply until ` +
          `their own bound on an idle connection, ${delta("TcpExtTCPKeepAlive", 0)}: without ` +
          "SO_KEEPALIVE a peer that vanished is never noticed",
        finsOnly
          ? `closing then, their FINs went unanswered (${unansweredFins} sockets still in FIN_WAIT1, ` +
              `${delta("TcpRetransSegs", retrans)}): the peer is gone`
          : "nothing was retransmitted: a vanished peer, or an app that never answers",
      ),
      numbers: {
        hung,
        attempts: g.outcomes.attempts,
        TcpExtTCPKeepAlive: 0,
        finWait1: unansweredFins,
      },
      claims: outcomeClaims([g], () => keys),
    });
  }
}
