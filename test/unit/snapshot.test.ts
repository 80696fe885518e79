/** Taking a snapshot from a /proc tree, and reading one back: good, truncated, foreign. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { addProcNetTcp, matchSendQ, parseSsRows } from "../../src/snapshot/sockets.js";
import { readSnapshot, SnapshotError } from "../../src/snapshot/snapshot.js";
import { countKernelLog, takeSnapshot } from "../../src/snapshot/take.js";
import { exitCodeFor } from "../../src/util/errors.js";

const procRoot = fileURLToPath(new URL("../fixtures/snapshot/proc", import.meta.url));

describe("takeSnapshot", () => {
  const s = takeSnapshot({ procRoot, now: new Date("2026-01-02T03:04:05Z") });

  it("holds the kernel, the sysctls, every counter, the listeners and the states", () => {
    expect(s).toMatchObject({ format: "tcprepro-snapshot", version: 1, kernel: "6.1.0-test" });
    expect(s.takenAt).toBe("2026-01-02T03:04:05.000Z");
    expect(s.sysctls).toMatchObject({
      "net.core.somaxconn": 4096,
      "net.ipv4.ip_local_port_range": "32768 60999",
      "net.ipv4.tcp_syncookies": 1,
      "net.netfilter.nf_conntrack_max": 262144,
    });
    expect(s.counters["TcpExtListenOverflows"]).toBeTypeOf("number");
    expect(s.counters["TcpActiveOpens"]).toBeTypeOf("number");
    expect(s.counters["NfConntrackInsertFailed"]).toBe(0);
    expect(s.listen).toContainEqual({
      family: "ipv4",
      address: "0.0.0.0",
      port: 8080,
      recvQ: 9,
      sendQ: null,
    });
    expect(s.listen).toContainEqual({
      family: "ipv6",
      address: "::1",
      port: 22,
      recvQ: 0,
      sendQ: null,
    });
    expect(s.states["LISTEN"]).toBe(2);
    expect(s.states["TIME_WAIT"]).toBe(1);
    expect(s.states["SYN_RECV"]).toBeGreaterThan(0);
  });

  it("leaves the TCP Fast Open key out: a snapshot is passed around", () => {
    expect(Object.keys(s.sysctls)).not.toContain("net.ipv4.tcp_fastopen_key");
  });

  it("says what it could not read, and that Send-Q is unknown without ss", () => {
    expect(s.source.listenLimits).toBe("none");
    expect(s.source.notes.join("\n")).toMatch(/Send-Q .* unknown.*ss was not used/);
    expect(s.source.notes.join("\n")).toMatch(/not present here.*net\.core\.netdev_max_backlog/);
  });

  it("round-trips through JSON", () => {
    expect(readSnapshot(JSON.stringify(s), "s.json")).toEqual(s);
  });
});

describe("takeSnapshot: a /proc that cannot be read", () => {
  const refuse = (root: string): string => {
    try {
      takeSnapshot({ procRoot: root });
    } catch (err) {
      expect(exitCodeFor(err)).toBe(2);
      return (err as Error).message;
    }
    throw new Error("accepted");
  };
  it("is refused, not a snapshot of a quiet host with kernel unknown", () => {
    expect(refuse("/nonexistent")).toMatch(
      /osrelease cannot be read \(ENOENT\): no such directory/,
    );
    expect(refuse(fileURLToPath(new URL("../fixtures", import.meta.url)))).toMatch(
      /not a \/proc tree/,
    );
  });
});

describe("the kernel log's cause lines", () => {
  it("counts conntrack's and the neighbour table's, whatever the prefix", () => {
    const log =
      "[  12.5] nf_conntrack: nf_conntrack: table full, dropping packet\n" +
      "[  13.1] nf_conntrack: table full, dropping packet\n" +
      "[  13.2] nf_conntrack: nf_conntrack: table full in netns 4026532217, dropping packet\n" +
      "[  14.0] neighbour: arp_cache: neighbor table overflow!\n" +
      "[  15.0] eth0: link up\n";
    expect(countKernelLog(log)).toEqual({ conntrackTableFull: 3, neighbourTableOverflow: 1 });
  });
});

describe("listeners' Send-Q from ss", () => {
  it("matches ss rows by address and port, or by a port only one row has", () => {
    const sockets = { states: {}, listen: [] };
    addProcNetTcp(
      "header\n   0: 00000000:1F90 00000000:0000 0A 00000000:00000011 00:00000000 00000000 0 0 1\n" +
        "   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
      "ipv4",
      sockets,
    );
    const rows = parseSsRows(
      "LISTEN 17     16     0.0.0.0:8080      0.0.0.0:*\n" +
        "LISTEN 0      4096   127.0.0.53%lo:53  0.0.0.0:*\n" +
        "LISTEN 0      128    [::]:22           [::]:*\n",
    );
    expect(rows[1]).toEqual({ address: "127.0.0.53", port: 53, sendQ: 4096 });
    expect(matchSendQ(sockets.listen, rows)).toBe(0);
    expect(sockets.listen).toEqual([
      { family: "ipv4", address: "0.0.0.0", port: 8080, recvQ: 17, sendQ: 16 },
      { family: "ipv4", address: "127.0.0.1", port: 53, recvQ: 0, sendQ: 4096 },
    ]);
  });
});

describe("readSnapshot: bad input", () => {
  const good = JSON.stringify(takeSnapshot({ procRoot }));
  const fail = (text: string): SnapshotError => {
    try {
      readSnapshot(text, "x.json");
    } catch (err) {
      expect(exitCodeFor(err)).toBe(2);
      return err as SnapshotError;
    }
    throw new Error("accepted");
  };

  it("a truncated file", () => {
    expect(fail(good.slice(0, good.length / 2)).message).toMatch(
      /^x\.json: not valid JSON.*truncated/,
    );
  });
  it("a foreign JSON file", () => {
    expect(fail('{"scenarios": []}').message).toMatch(/not a tcprepro snapshot/);
    expect(fail("[1, 2]").message).toMatch(/not a tcprepro snapshot/);
  });
  it("a newer version", () => {
    expect(fail(good.replace('"version":1', '"version":2')).message).toMatch(
      /version 2 is not supported/,
    );
  });
  it("a damaged field names its path", () => {
    const s = JSON.parse(good) as { listen: unknown };
    s.listen = [{ port: "eighty" }];
    expect(fail(JSON.stringify(s)).message).toMatch(/damaged snapshot: listen\.0\./);
  });
  it("counters of another kernel are fine: parsed by name", () => {
    const s = JSON.parse(good) as { counters: Record<string, number> };
    s.counters = { TcpExtSomethingFromTheFuture: 3, TcpActiveOpens: 1 };
    expect(readSnapshot(JSON.stringify(s), "x.json").counters).toEqual(s.counters);
  });
});
