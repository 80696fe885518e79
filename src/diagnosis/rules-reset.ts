/**
 * Rules of connections that ended with an error of their own: resets (passive: nothing listens;
 * active: the app closed with unread data), running out of local ports, and established
 * connections the kernel gave up on.
 */
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

/** The app closed with unread data (or SO_LINGER 0): the kernel resets the connection. */
export function activeResetRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  const resets = clients.count("ECONNRESET");
  for (const g of ctx.listeners()) {
    const close = ctx.need(g, "TcpExtTCPAbortOnClose", "active-reset", {
      consequence: "active-reset judged by TCPAbortOnLinger only",
    });
    const linger = ctx.need(g, "TcpExtTCPAbortOnLinger", "active-reset", {
      consequence: "active-reset judged by TCPAbortOnClose only",
    });
    const n = (close ?? 0) + (linger ?? 0);
    if (n <= 0) continue;
    const outRsts = ctx.get(g, "TcpOutRsts") ?? 0;
    ctx.add({
      cause: "active-reset",
      node: g.name,
      confidence: resets > 0 ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ` +
          [
            ...((close ?? 0) > 0 ? [delta("TcpExtTCPAbortOnClose", close!)] : []),
            ...((linger ?? 0) > 0 ? [delta("TcpExtTCPAbortOnLinger", linger!)] : []),
            delta("TcpOutRsts", outRsts),
          ].join(", ") +
          `: the app closed connections with unread data (or SO_LINGER 0) ` +
          "and the kernel reset them",
        resets > 0
          ? `${plural(resets, "client attempt")} ECONNRESET`
          : ctx.hasClientEvidence
            ? "no client saw ECONNRESET"
            : "no client outcomes to confirm",
      ),
      numbers: {
        TcpExtTCPAbortOnClose: close ?? 0,
        TcpExtTCPAbortOnLinger: linger ?? 0,
        TcpOutRsts: outRsts,
        clientResets: resets,
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnLinger", "TcpOutRsts"),
        ...outcomeClaims(ctx.clients(), (o) => o.keys("ECONNRESET")),
      ],
    });
  }
}

/** Resets a listener sent that earlier findings (abort-on-overflow, active-reset) account for. */
function explainedResets(ctx: DiagnosisContext, g: Group): number {
  let n = 0;
  for (const f of ctx.findings) {
    if (f.node !== g.name) continue;
    if (f.cause === "abort-on-overflow") n += f.numbers["aborted"] ?? 0;
    if (f.cause === "active-reset")
      n += (f.numbers["TcpExtTCPAbortOnClose"] ?? 0) + (f.numbers["TcpExtTCPAbortOnLinger"] ?? 0);
  }
  return n;
}

/** Nothing listens: the kernel answers the SYN with RST (IP id 0, no options), ECONNREFUSED. */
export function noListenerRule(ctx: DiagnosisContext): void {
  const clients = ctx.clientOutcomes();
  const refused = clients.count("ECONNREFUSED");
  const servers = ctx.listeners().filter((g) => g.collected);
  const refusedClaims = outcomeClaims(ctx.clients(), (o) => o.keys("ECONNREFUSED"));
  let anyPassive = false;
  for (const g of servers) {
    const outRsts = ctx.need(g, "TcpOutRsts", "no-listener");
    const passive = ctx.need(g, "TcpPassiveOpens", "no-listener");
    if (outRsts === undefined) continue;
    const passiveRsts = outRsts - explainedResets(ctx, g);
    if (passiveRsts <= 0) continue;
    const rsts = `${delta("TcpOutRsts", outRsts)}${passiveRsts < outRsts ? ` (${passiveRsts} not explained by another cause)` : ""}`;
    const opens =
      passive === undefined ? "TcpPassiveOpens absent" : delta("TcpPassiveOpens", passive);
    if (refused > 0) {
      anyPassive = true;
      ctx.add({
        cause: "no-listener",
        node: g.name,
        confidence: "strong",
        because:
          `clients: ${refused} of ${clients.attempts} attempts ECONNREFUSED; ${g.name}: ${rsts} with ${opens}: ` +
          "nothing listened on the port and the kernel answered the SYNs with RST",
        numbers: {
          clientRefused: refused,
          clientAttempts: clients.attempts,
          TcpOutRsts: outRsts,
          TcpPassiveOpens: passive ?? 0,
        },
        claims: [...counterClaims(g, "TcpOutRsts"), ...refusedClaims],
      });
    } else if (!ctx.hasClientEvidence && passive === 0) {
      ctx.add({
        cause: "no-listener",
        node: g.name,
        confidence: "weak",
        because:
          `${g.name}: ${rsts} with ${opens} and no other reset counter: SYNs to a port nothing ` +
          "listens on were reset (no client outcomes to confirm)",
        numbers: { TcpOutRsts: outRsts, TcpPassiveOpens: passive },
        claims: counterClaims(g, "TcpOutRsts"),
      });
    }
  }
  if (refused === 0 || anyPassive) return;
  if (servers.length === 0) {
    for (const g of ctx.clients()) {
      const n = g.outcomes.count("ECONNREFUSED");
      if (n === 0) continue;
      ctx.add({
        cause: "no-listener",
        node: g.name,
        confidence: "weak",
        because: `${g.name}: ${n} of ${g.outcomes.attempts} attempts ECONNREFUSED; no server counters to confirm a reset from the server`,
        numbers: { refused: n, attempts: g.outcomes.attempts },
        claims: outcomeClaims([g], (o) => o.keys("ECONNREFUSED")),
      });
    }
    return;
  }
  // Refused, but no server sent a reset of its own: the refusal came from somewhere else.
  for (const g of ctx.clients()) {
    if (g.outcomes.count("ECONNREFUSED") > 0)
      ctx.hint(
        g.name,
        "no server sent an unexplained reset (TcpOutRsts), so the refusals did not come from a server's closed port",
      );
  }
}

/**
 * The local port range ran out: connect() fails at once with EADDRNOTAVAIL and no error
 * counter moves — that silence is the tell (ports sit in TIME_WAIT on the side closing first).
 */
export function portExhaustionRule(ctx: DiagnosisContext): void {
  for (const g of ctx.clients()) {
    const o = g.outcomes;
    const n = o.count("EADDRNOTAVAIL");
    if (n === 0) continue;
    const tw = ctx.get(g, "TcpExtTW") ?? 0;
    const errors = [
      "TcpAttemptFails",
      "TcpExtTCPSynRetrans",
      "TcpExtTCPRetransFail",
      "TcpEstabResets",
    ]
      .map((c) => [c, ctx.get(g, c) ?? 0] as const)
      .filter(([, v]) => v > 0);
    ctx.add({
      cause: "port-exhaustion",
      node: g.name,
      confidence: "strong",
      because: joinParts(
        `${g.name}: ${n} of ${o.attempts} attempts EADDRNOTAVAIL (${o.connected} connected), ${delta("TcpExtTW", tw)}`,
        errors.length === 0
          ? "no error counter moved: the local port range ran out" +
              (tw > 0 ? " while used ports sat in TIME_WAIT" : "")
          : `the local port range ran out (error counters moved too: ${errors.map(([c, v]) => delta(c, v)).join(", ")})`,
      ),
      numbers: { addrNotAvail: n, attempts: o.attempts, connected: o.connected, TcpExtTW: tw },
      claims: outcomeClaims([g], (x) => x.keys("EADDRNOTAVAIL")),
    });
  }
}

/**
 * The kernel gave up on a connection (tcp_write_err → TCPAbortOnTimeout). That also counts SYN
 * timeouts, so on a client the aborts beyond its connect-phase ETIMEDOUTs are the established
 * ones: tcp_retries2 ran out, or keepalive probes went unanswered (TCPKeepAlive).
 */
export function retransmitTimeoutRule(ctx: DiagnosisContext): void {
  for (const g of ctx.groups) {
    const aborts = ctx.need(g, "TcpExtTCPAbortOnTimeout", "retransmit-timeout");
    if (aborts === undefined || aborts <= 0) continue;
    // keepalive-dead-peer explained them already.
    if (ctx.claimed({ group: g.name, counter: "TcpExtTCPAbortOnTimeout" })) continue;
    const o = g.outcomes;
    const connectTimeouts = o.count("ETIMEDOUT", ["connect"]);
    const established = aborts - connectTimeouts;
    if (established <= 0) {
      // All of them SYN timeouts: those are the stalls other rules explain (or report).
      ctx.claimOnly(counterClaims(g, "TcpExtTCPAbortOnTimeout"));
      continue;
    }
    const replyTimeouts = o.count("ETIMEDOUT", ["reply", "done"]);
    const keepalive = ctx.get(g, "TcpExtTCPKeepAlive") ?? 0;
    ctx.add({
      cause: "retransmit-timeout",
      node: g.name,
      confidence: replyTimeouts > 0 || keepalive > 0 || established >= MANY ? "strong" : "weak",
      because: joinParts(
        `${g.name}: ${delta("TcpExtTCPAbortOnTimeout", aborts)}` +
          (connectTimeouts > 0 ? ` (${connectTimeouts} of them connect timeouts)` : "") +
          (keepalive > 0 ? `, ${delta("TcpExtTCPKeepAlive", keepalive)}` : "") +
          ": the kernel gave up on established connections whose peer stopped answering " +
          "(tcp_retries2 or keepalive probes ran out)",
        replyTimeouts > 0 ? `${plural(replyTimeouts, "attempt")} ETIMEDOUT after connecting` : "",
      ),
      numbers: {
        TcpExtTCPAbortOnTimeout: aborts,
        establishedAborts: established,
        TcpExtTCPKeepAlive: keepalive,
        replyTimeouts,
      },
      claims: [
        ...counterClaims(g, "TcpExtTCPAbortOnTimeout"),
        ...outcomeClaims([g], (x) => x.keys("ETIMEDOUT", ["reply", "done"])),
      ],
    });
  }
}
