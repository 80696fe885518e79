import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  counterDeltas,
  parseArpCacheStat,
  parseConntrackStat,
  parseCounterDump,
  parseNstat,
  parseProcNetCounters,
  parseProcNetTcp,
  parseSnmp6,
  parseSsListen,
} from "../../src/evidence/proc.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), "utf8");

describe("/proc/net/netstat and /proc/net/snmp", () => {
  const counters = parseProcNetCounters(fixture("netstat.txt") + "\n" + fixture("snmp.txt"));

  it("names counters the way nstat does, by name not position", () => {
    expect(counters).toHaveProperty("TcpExtListenOverflows");
    expect(counters).toHaveProperty("TcpExtListenDrops");
    expect(counters).toHaveProperty("TcpOutRsts");
    expect(counters).toHaveProperty("IpExtInOctets");
    expect(counters).toHaveProperty("TcpActiveOpens");
    expect(Object.values(counters).every(Number.isFinite)).toBe(true);
  });

  it("keeps a counter a new kernel adds without shifting the others", () => {
    const text = "TcpExt: SyncookiesSent BrandNew ListenOverflows\nTcpExt: 1 2 3\n";
    expect(parseProcNetCounters(text)).toEqual({
      TcpExtSyncookiesSent: 1,
      TcpExtBrandNew: 2,
      TcpExtListenOverflows: 3,
    });
  });

  it("does not pair a header with the wrong value line", () => {
    const text = "TcpExt: A B\nIpExt: C\nIpExt: 7\n";
    expect(parseProcNetCounters(text)).toEqual({ IpExtC: 7 });
  });
});

describe("nstat", () => {
  it("reads `nstat -az` rows and ignores the #kernel line", () => {
    const text =
      "#kernel\nIpInReceives                    120                0.0\nTcpExtListenOverflows           45                 0.0\n";
    expect(parseNstat(text)).toEqual({ IpInReceives: 120, TcpExtListenOverflows: 45 });
  });

  it("parseCounterDump tells the two formats apart", () => {
    expect(parseCounterDump("#kernel\nTcpExtListenDrops 3 0.0\n")).toEqual({
      TcpExtListenDrops: 3,
    });
    expect(parseCounterDump("TcpExt: ListenDrops\nTcpExt: 3\n")).toEqual({ TcpExtListenDrops: 3 });
  });
});

describe("nf_conntrack stats", () => {
  it("sums hex per-CPU rows, names fields NfConntrack*, and leaves out the entries level", () => {
    const text =
      "entries  insert_failed drop\n0000000a  00000001 00000002\n0000000a  00000010 00000000\n";
    expect(parseConntrackStat(text)).toEqual({ NfConntrackInsertFailed: 17, NfConntrackDrop: 2 });
  });

  it("reads this kernel's real file", () => {
    const c = parseConntrackStat(fixture("nf_conntrack.txt"));
    expect(c).toHaveProperty("NfConntrackInsertFailed");
    expect(c).toHaveProperty("NfConntrackDrop");
  });
});

describe("/proc/net/stat/arp_cache", () => {
  it("sums the per-CPU counters and keeps entries, the table's size, as a level", () => {
    const text =
      "entries  allocs   destroys table_fulls forced_gc_runs\n" +
      "00000010 00000020 00000004 00000008    00000001\n" +
      "00000010 00000002 00000001 00000000    00000002\n";
    expect(parseArpCacheStat(text)).toEqual({
      ArpCacheEntries: 16,
      ArpCacheAllocs: 34,
      ArpCacheDestroys: 5,
      ArpCacheTableFulls: 8,
      ArpCacheForcedGcRuns: 3,
    });
  });
});

describe("listen queues", () => {
  it("takes the accept-queue depth of LISTEN rows from rx_queue and counts SYN_RECV", () => {
    const { listen, synRecv } = parseProcNetTcp(fixture("tcp-listen-full.txt"));
    expect(listen).toEqual([{ port: 8080, recvQ: 9, sendQ: 0 }]);
    expect(synRecv).toBe(2);
  });

  it("reads Recv-Q and Send-Q from ss -lnt", () => {
    const text =
      "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 9      8            0.0.0.0:8080      0.0.0.0:*\nLISTEN 0 4096 [::]:22 [::]:*\n";
    expect(parseSsListen(text)).toEqual([
      { port: 8080, recvQ: 9, sendQ: 8 },
      { port: 22, recvQ: 0, sendQ: 4096 },
    ]);
  });
});

describe("deltas", () => {
  it("subtracts before from after, treating a counter new in after as starting at 0", () => {
    expect(counterDeltas({ A: 5, Gone: 1 }, { A: 50, New: 3 })).toEqual({ A: 45, New: 3 });
  });
});

describe("parseSnmp6", () => {
  it("reads IPv6's name-value lines, names as the kernel prefixes them", () => {
    const text =
      "Ip6InReceives                   \t12\nIp6OutDiscards                  \t3\nIcmp6InErrors                   \t0\nUdp6SndbufErrors                \t7\nIcmp6InType135                  \t2\n";
    expect(parseSnmp6(text)).toEqual({
      Ip6InReceives: 12,
      Ip6OutDiscards: 3,
      Icmp6InErrors: 0,
      Udp6SndbufErrors: 7,
      Icmp6InType135: 2,
    });
  });
});
