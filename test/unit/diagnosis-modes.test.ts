/**
 * The round-2 rules (close-wait-leak, keepalive-dead-peer, delayed-ack-nagle, lossy-path,
 * tw-bucket-overflow, udp-local-firewall, neighbour-table-full) on evidence shaped like what
 * their scenarios measured here, and the look-alikes they must not name.
 */
import { describe, expect, it } from "vitest";
import type { Cause, CauseName, Diagnosis } from "../../src/diagnosis/causes.js";
import { diagnose } from "../../src/diagnosis/rules.js";
import type { Attempt } from "../../src/evidence/types.js";
import { attempts, evidence } from "../fixtures/diagnose/evidence.js";

const names = (d: Diagnosis): CauseName[] => d.causes.map((c) => c.cause);
function cause(d: Diagnosis, name: CauseName): Cause {
  const c = d.causes.find((x) => x.cause === name);
  if (!c) throw new Error(`expected ${name}, got ${names(d).join(", ")}`);
  return c;
}

describe("close-wait-leak", () => {
  const leak = (max: number, final: number) =>
    diagnose(
      evidence(
        {
          server: {
            role: "server",
            sockets: { max: { CLOSE_WAIT: max, LISTEN: 1 }, final: { CLOSE_WAIT: final } },
          },
          client: { role: "client", sockets: { max: { FIN_WAIT2: 60 }, final: { FIN_WAIT2: 60 } } },
        },
        attempts("client", 60, "connected", "done", 0.3),
      ),
    );

  it("names sockets that stay in CLOSE_WAIT, with the peer's FIN_WAIT2", () => {
    const c = cause(leak(60, 60), "close-wait-leak");
    expect(c.node).toBe("server");
    expect(c.confidence).toBe("strong");
    expect(c.numbers).toMatchObject({ closeWaitMax: 60, closeWaitFinal: 60, peerFinWait2Max: 60 });
    expect(c.because).toContain("60 sockets in CLOSE_WAIT");
  });

  it("leaves connections the app never accepted (still in its accept queue) alone", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            sockets: { max: { CLOSE_WAIT: 100 }, final: { CLOSE_WAIT: 100 } },
            listen: {
              final: [{ port: 8080, recvQ: 100, sendQ: 1024 }],
              maxRecvQ: { 8080: 100 },
              sendQ: { 8080: 1024 },
              maxSynRecv: 0,
            },
          },
          client: { role: "client" },
        },
        attempts("client", 100, "connected", "done", 0.3),
      ),
    );
    expect(names(d)).not.toContain("close-wait-leak");
  });

  it("leaves a few passing CLOSE_WAITs, and many that were closed later, alone", () => {
    expect(names(leak(3, 0))).toEqual(["none"]);
    expect(names(leak(40, 2))).toEqual(["none"]);
  });
});

describe("tw-bucket-overflow", () => {
  it("names TcpExtTCPTimeWaitOverflow with the TIME_WAIT ceiling, from counters alone too", () => {
    const d = diagnose(
      evidence({
        server: {
          role: "server",
          counters: { TcpExtTCPTimeWaitOverflow: 90, TcpExtTW: 10 },
          sockets: { max: { TIME_WAIT: 10 }, final: { TIME_WAIT: 10 } },
        },
      }),
    );
    const c = cause(d, "tw-bucket-overflow");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("TcpExtTCPTimeWaitOverflow +90");
    expect(c.because).toContain("at most 10 sockets in TIME_WAIT");
    expect(names(d)).not.toContain("unexplained");
  });
});

describe("keepalive-dead-peer", () => {
  it("calls keepalive's abort of idle connections (probes, then ETIMEDOUT) the safeguard working: none", () => {
    // 2/1/3 timers, partition after connect: 3 probes and one abort per connection.
    const d = diagnose(
      evidence(
        {
          client: {
            role: "client",
            counters: { TcpExtTCPKeepAlive: 9, TcpExtTCPAbortOnTimeout: 3 },
          },
          server: { role: "server" },
        },
        attempts("client", 3, "ETIMEDOUT", "reply", 0.4),
      ),
    );
    expect(names(d)).toEqual(["none"]);
    const c = cause(d, "none");
    expect(c.confidence).toBe("strong");
    expect(c.numbers).toMatchObject({
      "client.TcpExtTCPKeepAlive": 9,
      "client.keepaliveAborts": 3,
      clientAttempts: 3,
    });
    expect(c.because).toContain("keepalive found the peers of 3 idle connections gone");
    expect(c.because).toContain("3 of 3 client attempts failed, each as said above");
  });

  it("leaves tcp_retries2 aborts (no probes) to retransmit-timeout", () => {
    const d = diagnose(
      evidence(
        {
          client: {
            role: "client",
            counters: { TcpExtTCPAbortOnTimeout: 3, TcpRetransSegs: 12, TcpExtTCPTimeouts: 12 },
          },
        },
        attempts("client", 3, "ETIMEDOUT", "reply", 0.4),
      ),
    );
    expect(names(d)).toEqual(["retransmit-timeout"]);
  });

  it("names, weakly, replies waited for on idle connections that nothing probed", () => {
    const d = diagnose(
      evidence(
        { client: { role: "client" }, server: { role: "server" } },
        attempts("client", 3, "noReply", "reply", 0.4),
      ),
    );
    const c = cause(d, "keepalive-dead-peer");
    expect(c).toMatchObject({ node: "client", confidence: "weak" });
    expect(c.because).toContain("TcpExtTCPKeepAlive +0");
  });

  it("names it strongly when the closing FINs went unanswered too (FIN_WAIT1)", () => {
    const d = diagnose(
      evidence(
        {
          client: {
            role: "client",
            counters: { TcpRetransSegs: 6, TcpExtTCPTimeouts: 3 },
            sockets: { max: { ESTABLISHED: 3, FIN_WAIT1: 3 }, final: { FIN_WAIT1: 3 } },
          },
        },
        attempts("client", 3, "noReply", "reply", 0.4),
      ),
    );
    expect(cause(d, "keepalive-dead-peer")).toMatchObject({
      confidence: "strong",
      numbers: { hung: 3, finWait1: 3 },
    });
  });

  it("does not call a hang with retransmits an idle one", () => {
    const d = diagnose(
      evidence(
        { client: { role: "client", counters: { TcpRetransSegs: 5 } } },
        attempts("client", 3, "noReply", "reply", 0.4),
      ),
    );
    expect(names(d)).toEqual(["unexplained"]);
  });
});

describe("delayed-ack-nagle", () => {
  const run = (requestMs: number, delayedAcks: number) => {
    const list: Attempt[] = attempts("client", 10, "connected", "done", 0.3).map((a) => ({
      ...a,
      requestMs,
    }));
    return diagnose(
      evidence(
        {
          client: { role: "client" },
          server: { role: "server", counters: { TcpExtDelayedACKs: delayedAcks } },
        },
        list,
      ),
    );
  };

  it("names request round trips at the delayed-ACK timer on a short path", () => {
    const c = cause(run(44, 190), "delayed-ack-nagle");
    expect(c).toMatchObject({ node: "client", confidence: "strong" });
    expect(c.numbers).toMatchObject({ requestP50Ms: 44, connections: 10, TcpExtDelayedACKs: 190 });
  });

  it("is silent with TCP_NODELAY's microseconds, and on a path as slow as the requests", () => {
    expect(names(run(0.05, 0))).toEqual(["none"]);
    const slowPath = attempts("client", 10, "connected", "done", 40).map((a) => ({
      ...a,
      requestMs: 44,
    }));
    const d = diagnose(
      evidence({ client: { role: "client" }, server: { role: "server" } }, slowPath),
    );
    expect(names(d)).not.toContain("delayed-ack-nagle");
  });

  it("names it when a busy CPU made every handshake slow but the server delayed ACK after ACK", () => {
    const busy = (delayedAcks: number) =>
      diagnose(
        evidence(
          {
            client: { role: "client" },
            server: { role: "server", counters: { TcpExtDelayedACKs: delayedAcks } },
          },
          attempts("client", 10, "connected", "done", 67).map((a) => ({ ...a, requestMs: 48 })),
        ),
      );
    expect(cause(busy(190), "delayed-ack-nagle")).toMatchObject({ confidence: "strong" });
    // A few delayed ACKs do not make a path as slow as its requests the timer's.
    expect(names(busy(12))).not.toContain("delayed-ack-nagle");
  });
});

describe("a late segment on a client's TIME_WAIT", () => {
  it("is no cause when every attempt connected", () => {
    const d = diagnose(
      evidence(
        {
          client: { role: "client", counters: { TcpExtPAWSTimewait: 2 } },
          server: { role: "server" },
        },
        attempts("client", 10, "connected", "done", 0.3),
      ),
    );
    expect(names(d)).toEqual(["none"]);
  });
});

describe("lossy-path", () => {
  it("names partial loss with the retransmit breakdown", () => {
    const counters = {
      TcpRetransSegs: 140,
      TcpExtTCPFastRetrans: 60,
      TcpExtTCPSlowStartRetrans: 30,
      TcpExtTCPTimeouts: 25,
      TcpExtTCPLossProbes: 40,
      TcpExtTCPSynRetrans: 12,
    };
    const d = diagnose(
      evidence(
        { client: { role: "client", counters }, server: { role: "server" } },
        attempts("client", 50, "connected", "done", 1.2),
      ),
    );
    const c = cause(d, "lossy-path");
    expect(c).toMatchObject({ node: "client", confidence: "strong" });
    expect(c.because).toContain("TcpRetransSegs +140");
    expect(c.because).toContain("TcpExtTCPFastRetrans +60");
    expect(c.because).toContain("TcpExtTCPSynRetrans +12");
    expect(c.numbers).toMatchObject({ TcpExtTCPLossProbes: 40 });
  });

  it("does not name SYN retransmits alone, nor a total blackhole (no fast retransmit)", () => {
    const synOnly = diagnose(
      evidence({
        client: { role: "client", counters: { TcpRetransSegs: 40, TcpExtTCPSynRetrans: 40 } },
      }),
    );
    expect(names(synOnly)).not.toContain("lossy-path");
    const blackhole = diagnose(
      evidence({
        client: { role: "client", counters: { TcpRetransSegs: 12, TcpExtTCPTimeouts: 12 } },
      }),
    );
    expect(names(blackhole)).not.toContain("lossy-path");
  });

  it("is a rate: a few repaired drops among thousands of segments are not a lossy path", () => {
    const run = (retrans: number) =>
      diagnose(
        evidence({
          client: {
            role: "client",
            counters: { TcpOutSegs: 6000, TcpRetransSegs: retrans, TcpExtTCPFastRetrans: retrans },
          },
        }),
      );
    // 24 of 6000 (0.4 %): a busy machine's own drops; 228 of 6088 was 5 % random loss.
    expect(names(run(24))).not.toContain("lossy-path");
    expect(names(run(228))).toContain("lossy-path");
  });
});

describe("udp-local-firewall and neighbour-table-full", () => {
  it("names EPERM at send() beside TCP's connect ETIMEDOUT (local-firewall)", () => {
    const d = diagnose(
      evidence(
        {
          client: {
            role: "client",
            counters: { TcpExtTCPRetransFail: 6, TcpExtTCPSynRetrans: 6, TcpAttemptFails: 3 },
          },
          server: { role: "server" },
        },
        [
          ...attempts("client", 5, "EPERM", "connect"),
          ...attempts("client", 3, "ETIMEDOUT", "connect"),
        ],
      ),
    );
    const c = cause(d, "udp-local-firewall");
    expect(c.numbers).toMatchObject({ eperm: 5, tcpConnectTimeouts: 3 });
    expect(names(d)).toContain("local-firewall");
    expect(names(d)).not.toContain("unexplained");
  });

  it("names EINVAL at send() as a full neighbour table (kernels before 6.5)", () => {
    const d = diagnose(
      evidence({ client: { role: "client" } }, [
        ...attempts("client", 30, "EINVAL", "connect"),
        ...attempts("client", 10, "connected", "done"),
      ]),
    );
    expect(cause(d, "neighbour-table-full")).toMatchObject({
      confidence: "strong",
      numbers: { einval: 30, attempts: 40 },
    });
  });

  // As measured on 6.1 and 7.2 in VMs: 72 of 96 datagrams dropped, NEIGH_CREATEFAIL ×72.
  const neighbourDrops = (
    outcome: "ENOBUFS" | "connected",
    drops: Record<string, number> | null,
  ): Diagnosis =>
    diagnose({
      ...evidence({ client: { role: "client", counters: { UdpSndbufErrors: 72 } } }, [
        ...attempts("client", 72, outcome, outcome === "ENOBUFS" ? "connect" : "done"),
        ...attempts("client", 24, "connected", "done"),
      ]),
      dropReasons: { counts: drops, note: "" },
    });

  it("names ENOBUFS at send() when the kernel's drop reasons say NEIGH_CREATEFAIL", () => {
    const c = cause(
      neighbourDrops("ENOBUFS", { NEIGH_CREATEFAIL: 72, NO_SOCKET: 24 }),
      "neighbour-table-full",
    );
    expect(c).toMatchObject({ confidence: "strong", numbers: { enobufs: 72, silentDrops: 0 } });
    expect(c.because).toContain("NEIGH_CREATEFAIL ×72");
  });

  it("names datagrams dropped behind a send() that succeeded (no IP_RECVERR) from UdpSndbufErrors", () => {
    const d = neighbourDrops("connected", { NEIGH_CREATEFAIL: 72 });
    const c = cause(d, "neighbour-table-full");
    expect(c).toMatchObject({ confidence: "strong", numbers: { enobufs: 0, silentDrops: 72 } });
    expect(c.because).toContain("UdpSndbufErrors +72");
    expect(c.because).toContain("send() reported success");
  });

  it("leaves ENOBUFS alone when drop reasons were traced and none was NEIGH_CREATEFAIL", () => {
    const d = neighbourDrops("ENOBUFS", { QDISC_DROP: 72 });
    expect(names(d)).not.toContain("neighbour-table-full");
    expect(names(d)).toContain("unexplained");
  });

  it("names ENOBUFS weakly when drop reasons could not be traced, and silent drops not at all", () => {
    expect(cause(neighbourDrops("ENOBUFS", null), "neighbour-table-full").confidence).toBe("weak");
    expect(names(neighbourDrops("connected", null))).not.toContain("neighbour-table-full");
  });
});
