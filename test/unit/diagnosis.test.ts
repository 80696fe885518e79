/**
 * One test (at least) per rule, with the deltas measured on 6.18 (docs/kernel-behaviour.md), plus the mixed
 * cases and the cases that must NOT be named. Each asserts the cause, its node and confidence,
 * and the causes that must be absent.
 */
import { describe, expect, it } from "vitest";
import {
  CAUSE_NAMES,
  type Cause,
  type CauseName,
  type Diagnosis,
} from "../../src/diagnosis/causes.js";
import { diagnose } from "../../src/diagnosis/rules.js";
import { attempts, evidence, listenQueue } from "../fixtures/diagnose/evidence.js";

const names = (d: Diagnosis): CauseName[] => d.causes.map((c) => c.cause);
function cause(d: Diagnosis, name: CauseName): Cause {
  const c = d.causes.find((x) => x.cause === name);
  if (!c)
    throw new Error(
      `expected ${name}, got ${names(d).join(", ")}: ${JSON.stringify(d.causes, null, 1)}`,
    );
  return c;
}

describe("causes", () => {
  it("names the table's twenty causes, conntrack-table-full, none and unexplained", () => {
    expect(CAUSE_NAMES).toHaveLength(23);
    expect(CAUSE_NAMES).toContain("snat-conntrack-collision");
    expect(CAUSE_NAMES.slice(-2)).toEqual(["none", "unexplained"]);
  });
});

describe("accept-queue-overflow", () => {
  // Mode 1: listen(4), app never accepts, 50 concurrent connects from two replicas.
  const never = (overflows: number) =>
    diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtListenOverflows: overflows,
              TcpExtListenDrops: overflows,
              TcpPassiveOpens: 5,
            },
            listen: listenQueue(8080, 5, 4),
          },
          "client.1": { role: "client", counters: { TcpExtTCPSynRetrans: 45, TcpActiveOpens: 25 } },
          "client.2": { role: "client", counters: { TcpExtTCPSynRetrans: 45, TcpActiveOpens: 25 } },
        },
        [
          ...attempts("client.1", 3, "noReply", "reply", 2),
          ...attempts("client.2", 2, "noReply", "reply", 2),
          ...attempts("client.1", 22, "timeout", "connect"),
          ...attempts("client.2", 23, "timeout", "connect"),
        ],
        { server: "server", client: "client" },
      ),
    );

  it("names it from ListenOverflows ≈ ListenDrops, the queue over its limit and stalled clients", () => {
    const d = never(45);
    const c = cause(d, "accept-queue-overflow");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("server: TcpExtListenOverflows +45, TcpExtListenDrops +45");
    expect(c.because).toContain("accept queue 5 of 4 (port 8080)");
    expect(c.because).toContain("45 of 50 client attempts stalled in SYN retransmit");
    expect(c.numbers).toMatchObject({
      TcpExtListenOverflows: 45,
      acceptQueueMax: 5,
      acceptQueueLimit: 4,
      clientStalls: 45,
    });
    expect(names(d)).toEqual(["accept-queue-overflow"]);
  });

  it.each([51, 113, 405])("uses thresholds, not exact counts (ListenOverflows +%i)", (n) => {
    expect(names(never(n))).toEqual(["accept-queue-overflow"]);
  });

  it("is weak on a couple of overflows that nothing else confirms", () => {
    const d = diagnose(
      evidence({
        server: { role: "server", counters: { TcpExtListenOverflows: 2, TcpExtListenDrops: 2 } },
      }),
    );
    expect(cause(d, "accept-queue-overflow").confidence).toBe("weak");
  });

  it("is not syn-queue-overflow: slow accept makes SYN-ACK retransmits, not SYN-queue drops", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtListenOverflows: 30,
              TcpExtListenDrops: 30,
              TcpExtTCPSynRetrans: 12,
              TcpPassiveOpens: 20,
            },
          },
          client: { role: "client" },
        },
        attempts("client", 20, "connected", "done", 3000),
      ),
    );
    expect(names(d)).toContain("accept-queue-overflow");
    expect(names(d)).not.toContain("syn-queue-overflow");
    expect(names(d)).not.toContain("unexplained");
  });
});

describe("abort-on-overflow", () => {
  // Mode 3: queue full, clients' final ACKs held then released, tcp_abort_on_overflow=1.
  const abort = (synTime: number) =>
    diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtListenOverflows: 3 + synTime,
              TcpExtListenDrops: 3 + synTime,
              TcpOutRsts: 3,
              TcpExtEmbryonicRsts: 3,
              TcpPassiveOpens: 4,
            },
            listen: listenQueue(8080, 5, 4),
          },
          client: { role: "client" },
        },
        [
          ...attempts("client", 3, "ECONNRESET", "reply", 2),
          ...attempts("client", 4, "noReply", "reply", 2),
          ...attempts("client", synTime > 0 ? 20 : 0, "timeout", "connect"),
        ],
      ),
    );

  it("names it from ListenOverflows with EmbryonicRsts and TcpOutRsts, clients reset after connecting", () => {
    const d = abort(0);
    const c = cause(d, "abort-on-overflow");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("TcpExtEmbryonicRsts +3");
    expect(c.because).toContain("3 client attempts ECONNRESET after connecting");
    // The resets are the aborts: neither a closed port nor an app reset.
    expect(names(d)).not.toContain("no-listener");
    expect(names(d)).not.toContain("active-reset");
    expect(names(d)).not.toContain("accept-queue-overflow");
  });

  it("also names accept-queue-overflow for the SYNs dropped at SYN time in the same run", () => {
    const d = abort(45);
    expect(names(d)).toEqual(["accept-queue-overflow", "abort-on-overflow"]);
    expect(cause(d, "accept-queue-overflow").numbers["TcpExtListenOverflows"]).toBe(48);
  });

  it("is not named when the clients were recorded and none was reset", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtListenOverflows: 45,
              TcpExtListenDrops: 45,
              TcpOutRsts: 2,
              TcpExtEmbryonicRsts: 2,
            },
          },
          client: { role: "client" },
        },
        attempts("client", 45, "timeout", "connect"),
      ),
    );
    expect(names(d)).toContain("accept-queue-overflow");
    expect(names(d)).not.toContain("abort-on-overflow");
  });
});

describe("syn-queue-overflow", () => {
  const flood = (server: Record<string, number>, legit: ReturnType<typeof attempts>, synRecv = 9) =>
    diagnose(
      evidence(
        {
          server: { role: "server", counters: server, listen: listenQueue(8080, 0, 8, synRecv) },
          client: { role: "client", counters: { TcpExtTCPSynRetrans: 20 } },
          flooder: { role: "other" },
        },
        legit,
      ),
    );

  it("names it from TCPReqQFullDrop (syncookies=0, max_syn_backlog 16, listen(8))", () => {
    const d = flood({ TcpExtTCPReqQFullDrop: 2056, TcpExtListenDrops: 2056, TcpPassiveOpens: 10 }, [
      ...attempts("client", 5, "connected", "done", 7000),
      ...attempts("client", 5, "connected", "done", 11000),
    ]);
    const c = cause(d, "syn-queue-overflow");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("TcpExtTCPReqQFullDrop +2056");
    expect(c.because).toContain("10 of 10 client attempts stalled in SYN retransmit");
    expect(c.because).toContain("up to 9 half-open");
    expect(names(d)).not.toContain("accept-queue-overflow");
    expect(names(d)).not.toContain("syn-flood-cookies");
    expect(names(d)).not.toContain("unexplained");
  });

  it("names it alone when TCPReqQFullDrop accounts for the ListenDrops and ListenOverflows is a stray +1", () => {
    // Seen under load: the queue never over its limit, one overflow among 1994 drops.
    const d = flood(
      { TcpExtTCPReqQFullDrop: 1993, TcpExtListenDrops: 1994, TcpExtListenOverflows: 1 },
      attempts("client", 10, "timeout", "connect"),
    );
    expect(names(d)).toEqual(["syn-queue-overflow"]);
    expect(cause(d, "syn-queue-overflow").numbers["TcpExtListenOverflows"]).toBe(1);
  });

  it("still names accept-queue-overflow beside a flood when overflows are many", () => {
    const d = flood(
      { TcpExtTCPReqQFullDrop: 1500, TcpExtListenDrops: 1540, TcpExtListenOverflows: 40 },
      attempts("client", 10, "timeout", "connect"),
    );
    expect(names(d)).toContain("syn-queue-overflow");
    expect(names(d)).toContain("accept-queue-overflow");
  });

  it("names it from ListenDrops without ListenOverflows or TCPReqQFullDrop (listen(128): the last quarter)", () => {
    const d = flood({ TcpExtListenDrops: 2087 }, attempts("client", 10, "timeout", "connect"), 13);
    const c = cause(d, "syn-queue-overflow");
    expect(c.confidence).toBe("strong");
    expect(c.numbers["synDrops"]).toBe(2087);
    expect(names(d)).not.toContain("accept-queue-overflow");
    expect(names(d)).not.toContain("syn-blackhole");
    expect(names(d)).not.toContain("unexplained");
  });

  it("does not take a few stray ListenDrops for a flood: they stay unexplained, with the number", () => {
    const d = diagnose(
      evidence({ server: { role: "server", counters: { TcpExtListenDrops: 3 } } }),
    );
    expect(names(d)).toEqual(["unexplained"]);
    expect(cause(d, "unexplained").because).toContain("TcpExtListenDrops +3");
    expect(cause(d, "unexplained").numbers).toEqual({ TcpExtListenDrops: 3 });
  });

  it("says it judged by ListenDrops only where TCPReqQFullDrop does not exist", () => {
    const d = diagnose(
      evidence({
        server: {
          role: "server",
          counters: { TcpExtListenDrops: 500 },
          missing: ["TcpExtTCPReqQFullDrop"],
        },
      }),
    );
    expect(names(d)).toContain("syn-queue-overflow");
    expect(d.unchecked).toContain(
      "TcpExtTCPReqQFullDrop does not exist on this kernel: syn-queue-overflow judged by ListenDrops − ListenOverflows only",
    );
  });
});

describe("syn-flood-cookies", () => {
  it("names the mitigation working: SyncookiesSent and TCPReqQFullDoCookies, clients fine", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtSyncookiesSent: 2001,
              TcpExtTCPReqQFullDoCookies: 2002,
              TcpExtSyncookiesRecv: 10,
              TcpPassiveOpens: 10,
            },
          },
          client: { role: "client", counters: { TcpExtTCPSynRetrans: 1 } },
        },
        [
          ...attempts("client", 9, "connected", "done", 1),
          ...attempts("client", 1, "connected", "done", 1003),
        ],
      ),
    );
    const c = cause(d, "syn-flood-cookies");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("10 of 10 client attempts connected (1 after ≥1 s)");
    expect(names(d)).toEqual(["syn-flood-cookies"]);
  });

  it("a flood with cookies on and a stray ListenOverflows +2 names the cookies only", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtSyncookiesSent: 2009,
              TcpExtTCPReqQFullDoCookies: 2009,
              TcpExtListenOverflows: 2,
              TcpExtListenDrops: 2,
              TcpExtSyncookiesRecv: 10,
            },
            listen: listenQueue(8080, 3, 8, 8),
          },
          client: { role: "client" },
        },
        attempts("client", 10, "connected", "done", 1),
      ),
    );
    expect(names(d)).toEqual(["syn-flood-cookies"]);
  });

  it("SIGSTOP and resume (mode 2): both accept-queue-overflow and syn-flood-cookies", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: {
              TcpExtListenOverflows: 45,
              TcpExtListenDrops: 45,
              TcpExtSyncookiesSent: 40,
              TcpExtTCPReqQFullDoCookies: 40,
              TcpExtSyncookiesRecv: 40,
              TcpPassiveOpens: 50,
            },
          },
          client: { role: "client", counters: { TcpExtTCPSynRetrans: 450 } },
        },
        [
          ...attempts("client", 5, "connected", "done", 1),
          ...attempts("client", 45, "connected", "done", 11200),
        ],
      ),
    );
    expect(names(d)).toEqual(["accept-queue-overflow", "syn-flood-cookies"]);
    expect(cause(d, "accept-queue-overflow").because).toContain("45 connected after ≥1 s");
    expect(names(d)).not.toContain("syn-queue-overflow");
  });
});

describe("tw-recycle-paws", () => {
  it("names it on a kernel that still has TcpExtPAWSPassive", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpExtPAWSPassive: 12 },
            extra: ["TcpExtPAWSPassive"],
          },
          client: {
            role: "client",
            counters: { TcpExtTCPSynRetrans: 24 },
            extra: ["TcpExtPAWSPassive"],
          },
        },
        [
          ...attempts("client", 4, "timeout", "connect"),
          ...attempts("client", 16, "connected", "done", 4),
        ],
      ),
    );
    expect(cause(d, "tw-recycle-paws")).toMatchObject({ node: "server", confidence: "strong" });
    expect(names(d)).not.toContain("syn-blackhole");
    expect(d.unchecked.join("\n")).not.toContain("TcpExtPAWSPassive");
  });

  it("does not count PAWS-rejected SYNs as SYN-queue drops (4.11 counts them in ListenDrops too)", () => {
    // Measured on 4.11: ListenDrops +18 beside PAWSPassive +18, 9 of 20 connects timed out.
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpExtPAWSPassive: 18, TcpExtListenDrops: 18 },
            extra: ["TcpExtPAWSPassive", "TcpExtTCPReqQFullDrop"],
          },
          client: { role: "client", counters: { TcpExtTCPSynRetrans: 27 } },
        },
        [
          ...attempts("client", 9, "timeout", "connect"),
          ...attempts("client", 11, "connected", "done", 4),
        ],
      ),
    );
    expect(names(d)).toEqual(["tw-recycle-paws"]);
  });

  it("says it was not checked where the counter does not exist (6.18)", () => {
    const d = diagnose(evidence({ server: { role: "server" } }));
    expect(d.unchecked).toContain(
      "TcpExtPAWSPassive does not exist on this kernel: tw-recycle-paws not checked",
    );
    expect(names(d)).not.toContain("tw-recycle-paws");
  });
});

describe("snat-conntrack-collision", () => {
  // Mode 5: one SNAT port, server closes first: 16 of 32 attempts hit the old conntrack entry.
  const nat = (gateway: { conntrack?: boolean; counters?: Record<string, number> }) =>
    diagnose(
      evidence(
        {
          gw: { role: "gateway", ...gateway },
          "client.1": {
            role: "client",
            counters: { TcpExtTCPSynRetrans: 48, TcpAttemptFails: 16, TcpExtTCPAbortOnTimeout: 16 },
          },
          server: { role: "server", counters: { TcpPassiveOpens: 16 } },
        },
        [
          ...attempts("client.1", 16, "connected", "done", 5),
          ...attempts("client.1", 16, "ETIMEDOUT", "connect"),
        ],
      ),
    );

  it("names it from the gateway's insert_failed and drop, nothing reaching the server", () => {
    const d = nat({ counters: { NfConntrackInsertFailed: 64, NfConntrackDrop: 64 } });
    const c = cause(d, "snat-conntrack-collision");
    expect(c).toMatchObject({ node: "gw", confidence: "strong" });
    expect(c.because).toContain("gw: NfConntrackInsertFailed +64, NfConntrackDrop +64");
    expect(c.because).toContain("16 of 32 client attempts stalled in SYN retransmit");
    expect(names(d)).toEqual(["snat-conntrack-collision"]);
  });

  it("without the gateway's conntrack statistics: unchecked, and a blackhole is only weak", () => {
    const d = nat({ conntrack: false });
    expect(d.unchecked.some((u) => u.startsWith("gw: no nf_conntrack statistics"))).toBe(true);
    expect(cause(d, "syn-blackhole").confidence).toBe("weak");
    expect(names(d)).not.toContain("snat-conntrack-collision");
  });
});

describe("conntrack-table-full", () => {
  // Measured (7.2 VM, nf_conntrack_max 64): 2 × 60 held connections through the SNAT gateway,
  // 64 connected, 56 timed out; gw NfConntrackDrop +168, InsertFailed 0, NETFILTER_DROP ×168.
  const full = (gw: Record<string, number>, lostNat = 0) => {
    const ev = evidence(
      {
        gw: { role: "gateway", counters: gw },
        "client.1": {
          role: "client",
          counters: { TcpExtTCPSynRetrans: 56, TcpAttemptFails: 28, TcpExtTCPAbortOnTimeout: 28 },
        },
        "client.2": {
          role: "client",
          counters: { TcpExtTCPSynRetrans: 56, TcpAttemptFails: 28, TcpExtTCPAbortOnTimeout: 28 },
        },
        server: { role: "server", counters: { TcpPassiveOpens: 64 } },
      },
      [
        ...attempts("client.1", 32, "connected", "done", 2),
        ...attempts("client.1", 28, "ETIMEDOUT", "connect"),
        ...attempts("client.2", 32 - lostNat, "connected", "done", 2),
        ...attempts("client.2", 28, "ETIMEDOUT", "connect"),
        ...attempts("client.2", lostNat, "ECONNRESET", "reply"),
      ],
      { gw: "gateway", client: "client", server: "server" },
    );
    return diagnose({
      ...ev,
      dropReasons: { counts: { NETFILTER_DROP: 168 }, note: "" },
    } as typeof ev);
  };

  it("names a full table from drops with no insert failing, not a collision", () => {
    const d = full({ NfConntrackDrop: 168, NfConntrackInsertFailed: 0 });
    expect(names(d)).toEqual(["conntrack-table-full"]);
    const c = cause(d, "conntrack-table-full");
    expect(c).toMatchObject({ node: "gw", confidence: "strong" });
    expect(c.because).toMatch(
      /NfConntrackDrop \+168.*NfConntrackInsertFailed \+0: .*table was full/,
    );
    expect(c.because).toContain("56 of 120 client attempts");
    expect(c.because).toContain("NETFILTER_DROP ×168");
  });

  it("flows that lost their entry mid-handshake: the gateway's resets are the full table's too", () => {
    // 6.1, 1 run in 3: gw TcpOutRsts +12 and IpInDelivers +12 (un-NATed packets reached its own
    // stack), server TcpExtEmbryonicRsts +12, beside NfConntrackDrop +104 and early drops.
    const d = full({ NfConntrackDrop: 104, NfConntrackEarlyDrop: 12, TcpOutRsts: 12 }, 12);
    expect(names(d)).toEqual(["conntrack-table-full"]);
    expect(cause(d, "conntrack-table-full").because).toContain(
      "TcpOutRsts +12: flows that lost their entry mid-handshake were reset by gw itself",
    );
  });

  it("early drops alone: the table reached its max, weakly", () => {
    const d = full({ NfConntrackEarlyDrop: 3 });
    expect(cause(d, "conntrack-table-full").confidence).toBe("weak");
  });

  it("a clash (insert_failed with its drops) stays snat-conntrack-collision", () => {
    const d = full({ NfConntrackDrop: 40, NfConntrackInsertFailed: 40 });
    expect(names(d)).toContain("snat-conntrack-collision");
    expect(names(d)).not.toContain("conntrack-table-full");
  });
});

describe("timewait-paws", () => {
  const paws = (missing: string[] = []) =>
    diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpExtPAWSTimewait: 4, TcpPassiveOpens: 20 },
            missing,
          },
          client: { role: "client", counters: { TcpOutRsts: 4 }, missing },
        },
        [
          ...attempts("client", 16, "connected", "done", 4),
          ...attempts("client", 4, "connected", "done", 15),
        ],
      ),
    );

  it("names it from server PAWSTimewait with the clients' RSTs", () => {
    const d = paws();
    const c = cause(d, "timewait-paws");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("clients TcpOutRsts +4");
    expect(names(d)).toEqual(["timewait-paws"]);
  });

  it("on kernels without TcpExtPAWSTimewait (6.12 and older): unchecked, never a silent none", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpPassiveOpens: 20 },
            missing: ["TcpExtPAWSTimewait"],
          },
          client: { role: "client", counters: { TcpOutRsts: 4 }, missing: ["TcpExtPAWSTimewait"] },
        },
        attempts("client", 20, "connected", "done", 15),
      ),
    );
    expect(d.unchecked).toContain(
      "TcpExtPAWSTimewait does not exist on this kernel: timewait-paws not checked",
    );
    expect(cause(d, "none").confidence).toBe("weak");
    expect(cause(d, "none").because).toContain("client TcpOutRsts +4");
  });
});

describe("syn-blackhole", () => {
  // Mode 6: iptables DROP on the server, syn_retries=2.
  const blackhole = (withServer: boolean) =>
    diagnose(
      evidence(
        {
          ...(withServer ? { server: { role: "server" as const } } : {}),
          client: {
            role: "client",
            counters: {
              TcpExtTCPSynRetrans: 20,
              TcpAttemptFails: 10,
              TcpExtTCPAbortOnTimeout: 10,
              TcpActiveOpens: 10,
            },
          },
        },
        attempts("client", 10, "ETIMEDOUT", "connect"),
      ),
    );

  it("names it from client SYN retransmits and ETIMEDOUT while the server stayed flat", () => {
    const d = blackhole(true);
    const c = cause(d, "syn-blackhole");
    expect(c).toMatchObject({ node: "client", confidence: "strong" });
    expect(c.because).toContain("10 of 10 attempts timed out while connecting");
    expect(c.because).toContain("the SYNs never reached the server's stack");
    // TCPAbortOnTimeout counts SYN timeouts too: these are not established connections.
    expect(names(d)).toEqual(["syn-blackhole"]);
  });

  it("is weak without server counters", () => {
    expect(cause(blackhole(false), "syn-blackhole").confidence).toBe("weak");
  });

  it("is not named when the server saw the SYNs (SYN-ACKs lost on the way back): unexplained", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpExtTCPSynRetrans: 50 } },
          client: {
            role: "client",
            counters: { TcpExtTCPSynRetrans: 20, TcpAttemptFails: 10, TcpExtTCPAbortOnTimeout: 10 },
          },
        },
        attempts("client", 10, "ETIMEDOUT", "connect"),
      ),
    );
    expect(names(d)).toEqual(["unexplained"]);
    expect(cause(d, "unexplained").because).toContain(
      "10 of 10 attempts ETIMEDOUT while connecting",
    );
    expect(cause(d, "unexplained").because).toContain(
      "the server saw SYNs (TcpExtTCPSynRetrans +50)",
    );
  });
});

describe("local-firewall", () => {
  it("names it from TCPRetransFail with ETIMEDOUT (mode 8), not a blackhole", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server" },
          client: {
            role: "client",
            counters: {
              TcpExtTCPRetransFail: 2,
              TcpExtTCPSynRetrans: 2,
              TcpAttemptFails: 1,
              TcpExtTCPAbortOnTimeout: 1,
            },
          },
        },
        attempts("client", 1, "ETIMEDOUT", "connect"),
      ),
    );
    const c = cause(d, "local-firewall");
    expect(c).toMatchObject({ node: "client", confidence: "strong" });
    expect(c.because).toContain("ETIMEDOUT, not EPERM");
    expect(names(d)).toEqual(["local-firewall"]);
  });
});

describe("no-listener", () => {
  it("names it from ECONNREFUSED and the server's passive resets (mode 7)", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpOutRsts: 10 } },
          client: { role: "client", counters: { TcpAttemptFails: 10 } },
        },
        attempts("client", 10, "ECONNREFUSED", "connect"),
      ),
    );
    const c = cause(d, "no-listener");
    expect(c).toMatchObject({ node: "server", confidence: "strong" });
    expect(c.because).toContain("10 of 10 attempts ECONNREFUSED");
    expect(c.because).toContain("TcpOutRsts +10 with TcpPassiveOpens +0");
    expect(names(d)).toEqual(["no-listener"]);
  });

  it("is not named when no server sent a reset (a REJECT elsewhere): unexplained", () => {
    const d = diagnose(
      evidence(
        { server: { role: "server" }, client: { role: "client" } },
        attempts("client", 10, "ECONNREFUSED", "connect"),
      ),
    );
    expect(names(d)).toEqual(["unexplained"]);
    expect(cause(d, "unexplained").because).toContain("did not come from a server's closed port");
  });
});

describe("active-reset", () => {
  it("names it from TCPAbortOnClose and the clients' ECONNRESET (mode 7), not abort-on-overflow", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpExtTCPAbortOnClose: 10, TcpOutRsts: 10, TcpPassiveOpens: 10 },
          },
          client: { role: "client", counters: { TcpEstabResets: 10 } },
        },
        attempts("client", 10, "ECONNRESET", "reply", 1),
      ),
    );
    expect(cause(d, "active-reset")).toMatchObject({ node: "server", confidence: "strong" });
    expect(names(d)).toEqual(["active-reset"]);
  });

  it("names SO_LINGER 0 (TCPAbortOnLinger) too", () => {
    const d = diagnose(
      evidence(
        {
          server: {
            role: "server",
            counters: { TcpExtTCPAbortOnLinger: 5, TcpOutRsts: 5, TcpPassiveOpens: 5 },
          },
          client: { role: "client" },
        },
        attempts("client", 5, "ECONNRESET", "done", 1),
      ),
    );
    expect(names(d)).toEqual(["active-reset"]);
  });
});

describe("port-exhaustion", () => {
  it("names it from EADDRNOTAVAIL with no error counter moving (mode 9)", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpPassiveOpens: 10 } },
          client: { role: "client", counters: { TcpExtTW: 10 } },
        },
        [
          ...attempts("client", 10, "connected", "done", 1),
          ...attempts("client", 20, "EADDRNOTAVAIL", "connect"),
        ],
      ),
    );
    const c = cause(d, "port-exhaustion");
    expect(c).toMatchObject({ node: "client", confidence: "strong" });
    expect(c.because).toContain("20 of 30 attempts EADDRNOTAVAIL (10 connected), TcpExtTW +10");
    expect(c.because).toContain("no error counter moved");
    expect(names(d)).toEqual(["port-exhaustion"]);
  });
});

describe("replicas", () => {
  it("folds client.1, client.2 into one `client` with their numbers summed", () => {
    const d = diagnose(
      evidence(
        {
          "client.1": { role: "client", counters: { TcpExtTW: 5 } },
          "client.2": { role: "client", counters: { TcpExtTW: 5 } },
        },
        [
          ...attempts("client.1", 10, "EADDRNOTAVAIL", "connect"),
          ...attempts("client.2", 10, "EADDRNOTAVAIL", "connect"),
        ],
        { client: "client" },
      ),
    );
    expect(d.causes).toHaveLength(1);
    expect(cause(d, "port-exhaustion")).toMatchObject({
      node: "client",
      numbers: { addrNotAvail: 20, TcpExtTW: 10 },
    });
  });

  it("keeps a single replica's own name", () => {
    const d = diagnose(
      evidence(
        { "client.1": { role: "client" } },
        attempts("client.1", 3, "EADDRNOTAVAIL", "connect"),
        { client: "client" },
      ),
    );
    expect(cause(d, "port-exhaustion").node).toBe("client.1");
  });
});

describe("retransmit-timeout", () => {
  it("names it from TCPAbortOnTimeout with ETIMEDOUT after connecting (tcp_retries2=3, mode 10)", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpPassiveOpens: 1 } },
          client: { role: "client", counters: { TcpExtTCPAbortOnTimeout: 1, TcpRetransSegs: 4 } },
        },
        attempts("client", 1, "ETIMEDOUT", "reply", 1),
      ),
    );
    expect(cause(d, "retransmit-timeout")).toMatchObject({ node: "client", confidence: "strong" });
    expect(names(d)).toEqual(["retransmit-timeout"]);
  });

  it("leaves keepalive giving up (TCPKeepAlive +3) alone: the safeguard worked", () => {
    const d = diagnose(
      evidence(
        {
          client: {
            role: "client",
            counters: { TcpExtTCPAbortOnTimeout: 1, TcpExtTCPKeepAlive: 3 },
          },
        },
        attempts("client", 1, "ETIMEDOUT", "done", 1),
      ),
    );
    expect(cause(d, "none").because).toContain("TcpExtTCPKeepAlive +3");
    expect(names(d)).toEqual(["none"]);
  });
});

describe("none and unexplained", () => {
  it("is none, strong, when every attempt connected and nothing moved", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpPassiveOpens: 50 } },
          client: { role: "client", counters: { TcpActiveOpens: 50 } },
        },
        attempts("client", 50, "connected", "done", 1),
      ),
    );
    expect(d.causes).toEqual([
      expect.objectContaining({
        cause: "none",
        confidence: "strong",
        because: expect.stringContaining("all 50 client attempts connected"),
      }),
    ]);
  });

  it("is unexplained, with the numbers, for failures no rule fits", () => {
    const d = diagnose(
      evidence({ server: { role: "server" }, client: { role: "client" } }, [
        ...attempts("client", 7, "EHOSTUNREACH", "connect"),
        ...attempts("client", 3, "connected", "done", 1),
      ]),
    );
    expect(d.causes).toHaveLength(1);
    expect(cause(d, "unexplained")).toMatchObject({
      node: "client",
      numbers: { "EHOSTUNREACH@connect": 7 },
      because: expect.stringContaining("7 of 10 attempts EHOSTUNREACH while connecting"),
    });
  });

  it("reports leftover failures as unexplained beside the causes that were found", () => {
    const d = diagnose(
      evidence(
        {
          server: { role: "server", counters: { TcpExtTCPAbortOnClose: 5, TcpOutRsts: 5 } },
          client: { role: "client" },
        },
        [
          ...attempts("client", 5, "ECONNRESET", "reply", 1),
          ...attempts("client", 2, "EHOSTUNREACH", "connect"),
        ],
      ),
    );
    expect(names(d)).toEqual(["active-reset", "unexplained"]);
  });

  it("says which node had no counters instead of calling every counter missing", () => {
    const d = diagnose(
      evidence(
        { server: { role: "server", uncollected: true }, client: { role: "client" } },
        attempts("client", 2, "connected", "done", 1),
      ),
    );
    const line = d.unchecked.find((u) => u.startsWith("server: no counters were collected"));
    expect(line).toContain("accept-queue-overflow");
    expect(
      d.unchecked.some(
        (u) => u.includes("does not exist on this kernel") && !u.includes("PAWSPassive"),
      ),
    ).toBe(false);
  });

  it("says client outcomes were not checked when no attempt was recorded", () => {
    const d = diagnose(evidence({ server: { role: "server" } }));
    expect(
      d.unchecked.some((u) => u.startsWith("client outcomes: no client attempts were recorded")),
    ).toBe(true);
    expect(cause(d, "none").confidence).toBe("weak");
  });

  it("works from the client summary when the attempts themselves are not there", () => {
    const e = evidence({
      server: { role: "server", counters: { TcpOutRsts: 4 } },
      client: { role: "client" },
    });
    e.clients = { attempts: 4, outcomes: { ECONNREFUSED: 4 }, connectMs: null, replyMs: null };
    expect(names(diagnose(e))).toEqual(["no-listener"]);
  });

  it("orders strong causes before weak ones", () => {
    const d = diagnose(
      evidence({
        server: {
          role: "server",
          counters: { TcpExtSyncookiesSent: 2, TcpExtListenOverflows: 60, TcpExtListenDrops: 60 },
        },
      }),
    );
    expect(d.causes.map((c) => [c.cause, c.confidence])).toEqual([
      ["accept-queue-overflow", "strong"],
      ["syn-flood-cookies", "weak"],
    ]);
  });
});

describe("syn-blackhole with a server capture", () => {
  const base = (serverSyns: number) => ({
    kernel: "6.18.0",
    roles: { client: "client" as const, server: "server" as const },
    nodes: {
      client: {
        counters: { TcpExtTCPSynRetrans: 25, TcpAttemptFails: 5 },
        available: ["TcpExtTCPSynRetrans", "TcpAttemptFails", "TcpPassiveOpens"],
      },
      server: {
        counters: { TcpPassiveOpens: 0 },
        available: ["TcpPassiveOpens", "TcpExtListenDrops", "TcpExtListenOverflows"],
        listen: { final: [], maxRecvQ: {}, sendQ: {}, maxSynRecv: 0 },
        packets: {
          synSent: 0,
          synReceived: serverSyns,
          synAckSent: 0,
          synUnanswered: 0,
          rstSent: 0,
          rstPassive: 0,
          rstActive: 0,
          flows: 0,
          synSchedule: [],
          skipped: 0,
          truncated: false,
        },
      },
    },
    attempts: Array.from({ length: 5 }, () => ({
      node: "client",
      startMs: 0,
      outcome: "ETIMEDOUT",
      phase: "connect" as const,
    })),
    clients: { attempts: 5, outcomes: { ETIMEDOUT: 5 }, connectMs: null, replyMs: null },
  });

  it("no SYN in the server's capture: dropped on the path", () => {
    const c = diagnose(base(0)).causes.find((x) => x.cause === "syn-blackhole")!;
    expect(c.confidence).toBe("strong");
    expect(c.because).toMatch(/capture saw no SYN at all: dropped on the path/);
    expect(c.numbers.serverSynsCaptured).toBe(0);
  });

  it("SYNs on the server's wire but its stack flat: a firewall on the server", () => {
    const c = diagnose(base(15)).causes.find((x) => x.cause === "syn-blackhole")!;
    expect(c.because).toMatch(/capture saw 15 SYNs arrive: dropped on the server before TCP/);
  });
});
