/** diagnose on snapshots: what their state adds, what to try, and bad pairs. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { diagnoseHost, formatHostDiagnosis, MITIGATIONS } from "../../src/diagnosis/index.js";
import type { Snapshot } from "../../src/snapshot/snapshot.js";
import { exitCodeFor } from "../../src/util/errors.js";
import { snapshotOf } from "./builders.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** A quiet host: a listener with room, a few sockets, every counter the rules read. */
function quietHost(over: Partial<Snapshot> = {}, counters: Record<string, number> = {}): Snapshot {
  return snapshotOf({
    sysctls: {
      "net.core.somaxconn": 4096,
      "net.ipv4.ip_local_port_range": "32768 60999",
      "net.ipv4.tcp_tw_reuse": 2,
      "net.netfilter.nf_conntrack_max": 1000,
      "net.netfilter.nf_conntrack_count": 10,
    },
    counters: {
      TcpExtListenOverflows: 5,
      TcpExtListenDrops: 5,
      TcpExtTCPReqQFullDrop: 0,
      TcpExtTCPReqQFullDoCookies: 0,
      TcpExtSyncookiesSent: 0,
      TcpExtPAWSPassive: 0,
      TcpExtEmbryonicRsts: 0,
      TcpOutRsts: 100,
      TcpActiveOpens: 1000,
      ...counters,
    },
    listen: [{ family: "ipv4", address: "0.0.0.0", port: 8080, recvQ: 0, sendQ: 511 }],
    states: { LISTEN: 1, ESTABLISHED: 20, TIME_WAIT: 3 },
    ...over,
  });
}

const json = (s: Snapshot): string => JSON.stringify(s);
const later = (s: Snapshot): Snapshot => ({ ...s, takenAt: "2026-01-02T03:05:05.000Z" });

describe("diagnose from snapshots", () => {
  it("a quiet host: none, and nothing to try", () => {
    const d = diagnoseHost(json(later(quietHost())), json(quietHost()));
    expect(d.causes.map((c) => c.cause)).toEqual(["none"]);
    expect(d.whatToTry).toEqual([]);
  });

  it("a full listener with its limit at somaxconn, and ListenOverflows moving", () => {
    const full = {
      family: "ipv4" as const,
      address: "0.0.0.0",
      port: 8080,
      recvQ: 129,
      sendQ: 128,
    };
    const after = quietHost(
      { listen: [full], sysctls: { ...quietHost().sysctls, "net.core.somaxconn": 128 } },
      { TcpExtListenOverflows: 60, TcpExtListenDrops: 60 },
    );
    const d = diagnoseHost(json(later(after)), json(quietHost()));
    expect(d.causes).toHaveLength(1);
    expect(d.causes[0]).toMatchObject({ cause: "accept-queue-overflow", confidence: "strong" });
    expect(d.causes[0]!.because).toMatch(/TcpExtListenOverflows \+55/);
    expect(d.causes[0]!.because).toMatch(
      /Recv-Q 129 of Send-Q 128.*equals net\.core\.somaxconn \(128\)/,
    );
    expect(d.whatToTry).toEqual([
      {
        cause: "accept-queue-overflow",
        change: expect.stringMatching(/somaxconn/),
        scenario: "scenarios/accept-queue-overflow.yaml",
      },
    ]);
    expect(formatHostDiagnosis(d)).toMatch(
      /what to try:\n  accept-queue-overflow: .*\n    demonstrated by scenarios\/accept-queue-overflow\.yaml/,
    );
  });

  it("a full listener with no counter moving: named from the state alone", () => {
    const s = quietHost({
      listen: [{ family: "ipv4", address: "::", port: 80, recvQ: 11, sendQ: 10 }],
    });
    const d = diagnoseHost(json(later(s)), json(quietHost()));
    expect(d.causes.map((c) => c.cause)).toEqual(["accept-queue-overflow"]);
  });

  it("somaxconn capping a listener with room is an observation, not a cause", () => {
    const s = quietHost({
      listen: [{ family: "ipv4", address: "0.0.0.0", port: 80, recvQ: 0, sendQ: 4096 }],
    });
    const d = diagnoseHost(json(later(s)), json(quietHost()));
    expect(d.causes.map((c) => c.cause)).toEqual(["none"]);
    expect(d.observations[0]).toMatch(
      /0\.0\.0\.0:80: Send-Q 4096, its limit equals net\.core\.somaxconn/,
    );
  });

  it("conntrack near its max, and TIME_WAIT near the port range", () => {
    const s = quietHost({
      sysctls: {
        ...quietHost().sysctls,
        "net.netfilter.nf_conntrack_count": 950,
        "net.ipv4.ip_local_port_range": "40000 40999",
      },
      states: { TIME_WAIT: 900, ESTABLISHED: 3 },
    });
    const d = diagnoseHost(json(later(s)), json(quietHost()));
    expect(d.causes.map((c) => c.cause).sort()).toEqual([
      "conntrack-table-full",
      "port-exhaustion",
    ]);
    expect(d.causes.find((c) => c.cause === "conntrack-table-full")!.because).toMatch(
      /950 of nf_conntrack_max 1000 \(95%\)/,
    );
    expect(d.whatToTry.map((t) => t.cause).sort()).toEqual([
      "conntrack-table-full",
      "port-exhaustion",
    ]);
  });

  it("a full conntrack table from two snapshots: drops with no insert failing, not a collision", () => {
    const ct = (drop: number, count: number, log: number) =>
      quietHost(
        {
          sysctls: {
            ...quietHost().sysctls,
            "net.netfilter.nf_conntrack_max": 64,
            "net.netfilter.nf_conntrack_count": count,
          },
          kernelLog: { conntrackTableFull: log },
        },
        { NfConntrackDrop: drop, NfConntrackEarlyDrop: 0, NfConntrackInsertFailed: 0 },
      );
    const d = diagnoseHost(json(later(ct(168, 64, 10))), json(ct(0, 3, 0)));
    expect(d.causes.map((c) => c.cause)).toEqual(["conntrack-table-full"]);
    const c = d.causes[0]!;
    expect(c.confidence).toBe("strong");
    expect(c.because).toMatch(/NfConntrackDrop \+168.*NfConntrackInsertFailed \+0/);
    expect(c.because).toMatch(/nf_conntrack_count 64 of nf_conntrack_max 64 \(100%\)/);
    expect(c.because).toMatch(/10 "nf_conntrack: table full, dropping packet" lines/);
    expect(d.whatToTry[0]).toMatchObject({
      cause: "conntrack-table-full",
      scenario: "scenarios/conntrack-table-full.yaml",
    });
  });

  it("--live: a queue full between the snapshots counts, and drop reasons are observed", () => {
    const full = {
      family: "ipv4" as const,
      address: "0.0.0.0",
      port: 8080,
      recvQ: 512,
      sendQ: 511,
    };
    const sample = quietHost({ listen: [full], states: { LISTEN: 1, CLOSE_WAIT: 2 } });
    const d = diagnoseHost(json(later(quietHost())), json(quietHost()), {
      samples: [sample],
      dropReasons: { counts: { TCP_LISTEN_OVERFLOW: 7 }, note: "every IPv4 drop on this host" },
    });
    const c = d.causes.find((x) => x.cause === "accept-queue-overflow")!;
    expect(c.because).toMatch(/Recv-Q 512 of Send-Q 511/);
    expect(c.node).toBe("web1");
    expect(d.observations.join("\n")).toMatch(/kernel drop reasons .*TCP_LISTEN_OVERFLOW ×7/);
  });

  it("the neighbour table: table_fulls moving, and entries near gc_thresh3", () => {
    const arp = { ArpCacheEntries: 30, ArpCacheTableFulls: 0, ArpCacheForcedGcRuns: 2 };
    const before = quietHost(
      { sysctls: { ...quietHost().sysctls, "net.ipv4.neigh.default.gc_thresh3": 32 } },
      arp,
    );
    const after = later({
      ...before,
      counters: { ...before.counters, ArpCacheEntries: 31, ArpCacheTableFulls: 72 },
    });
    const d = diagnoseHost(json(after), json(before));
    expect(d.causes.map((c) => c.cause)).toEqual(["neighbour-table-full"]);
    const c = d.causes[0]!;
    expect(c.confidence).toBe("strong");
    expect(c.because).toMatch(/ArpCacheTableFulls \+72 .*72 entries could not be created/);
    expect(c.because).toMatch(/holds 31 entries, gc_thresh3 is 32/);
    expect(d.whatToTry[0]).toMatchObject({
      cause: "neighbour-table-full",
      scenario: "scenarios/neighbour-table-full.yaml",
    });
    // Entries well below gc_thresh3 and no table_fulls: nothing to say.
    const calm = quietHost(
      { sysctls: { ...quietHost().sysctls, "net.ipv4.neigh.default.gc_thresh3": 1024 } },
      arp,
    );
    expect(diagnoseHost(json(later(calm)), json(calm)).causes.map((x) => x.cause)).toEqual([
      "none",
    ]);
  });

  it("another kernel's counters: unknown ones are fine, missing ones are named as unchecked", () => {
    const strange = quietHost({ kernel: "3.10.0-el7" });
    const { TcpExtListenOverflows: _a, TcpExtListenDrops: _b, ...rest } = strange.counters;
    const b = { ...strange, counters: { ...rest, TcpExtFromTheFuture: 1 } };
    const a = later({ ...b, counters: { ...b.counters, TcpExtFromTheFuture: 9 } });
    const d = diagnoseHost(json(a), json(b));
    expect(d.causes.map((c) => c.cause)).toEqual(["none"]);
    expect(d.unchecked.join("\n")).toMatch(/TcpExtListenOverflows does not exist on this kernel/);
  });

  it("one snapshot alone: counters since boot, and it says so", () => {
    const d = diagnoseHost(
      json(quietHost({}, { TcpExtListenOverflows: 50, TcpExtListenDrops: 50 })),
    );
    expect(d.causes[0]!.cause).toBe("accept-queue-overflow");
    expect(d.unchecked[0]).toMatch(/one snapshot: its counters count since boot/);
  });

  it("a snapshot beside an nstat dump", () => {
    const nstat = readFileSync(
      join(here, "../fixtures/diagnose/never-accept.before.nstat"),
      "utf8",
    );
    const d = diagnoseHost(
      json(quietHost({}, { TcpExtListenOverflows: 10_000, TcpExtListenDrops: 10_000 })),
      nstat,
    );
    expect(d.causes.map((c) => c.cause)).toContain("accept-queue-overflow");
  });

  it("two hosts, two kernels, or the pair in the wrong order: exit 2", () => {
    const cases: [Snapshot, RegExp][] = [
      [{ ...later(quietHost()), kernel: "6.2.0" }, /different hosts or kernels/],
      [{ ...later(quietHost()), hostname: "web2" }, /different hosts or kernels/],
      [{ ...quietHost(), takenAt: "2026-01-01T00:00:00.000Z" }, /--before was taken after --after/],
    ];
    for (const [after, message] of cases) {
      let err: unknown;
      try {
        diagnoseHost(json(after), json(quietHost()));
      } catch (e) {
        err = e;
      }
      expect(String(err)).toMatch(message);
      expect(exitCodeFor(err)).toBe(2);
    }
  });
});

describe("the what-to-try table", () => {
  it("names, for every cause with a scenario, a catalog file whose variants show that cause", () => {
    for (const [cause, m] of Object.entries(MITIGATIONS)) {
      expect(m.change.length, cause).toBeGreaterThan(20);
      if (!m.scenario) continue;
      const doc = parse(readFileSync(join(here, `../../scenarios/${m.scenario}.yaml`), "utf8")) as {
        expect: { cause: string | string[] };
        variants?: Record<string, { expect?: { cause?: string | string[] } }>;
      };
      const causes = [
        doc.expect.cause,
        ...Object.values(doc.variants ?? {}).map((v) => v.expect?.cause),
      ].flat();
      expect(causes, `${m.scenario}.yaml for ${cause}`).toContain(cause);
    }
  });
});
