/** scenario new: the catalog's version of every cause, a snapshot's version, and bad causes. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadScenario } from "../../src/scenario/load.js";
import { knownCauses, newScenario } from "../../src/scenario/new.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";
import type { Snapshot } from "../../src/snapshot/snapshot.js";
import { UsageError } from "../../src/util/errors.js";
import { snapshotOf } from "./builders.js";

const facts: KernelFacts = { sysctlExists: () => true };

interface RawExpect {
  clients: Record<string, string>;
  counters: Record<string, Record<string, string>>;
  sockets: Record<string, Record<string, string>>;
}
/** The written YAML as is (expectations unparsed). */
const raw = (made: { text: string }) =>
  parse(made.text) as { expect: RawExpect; variants: Record<string, { expect: RawExpect }> };

function snapshot(over: Partial<Snapshot> = {}): { value: Snapshot; text: string; file: string } {
  const value = snapshotOf({
    sysctls: {
      "net.core.somaxconn": 128,
      "net.ipv4.tcp_syn_retries": 6,
      "net.ipv4.tcp_max_syn_backlog": 512,
    },
    counters: { TcpExtListenOverflows: 0, TcpExtListenDrops: 0, TcpActiveOpens: 1 },
    listen: [
      { family: "ipv4", address: "0.0.0.0", port: 22, recvQ: 0, sendQ: 128 },
      { family: "ipv4", address: "10.0.0.5", port: 9000, recvQ: 129, sendQ: 128 },
    ],
    states: { LISTEN: 2 },
    ...over,
  });
  return { value, text: JSON.stringify(value), file: "web1.json" };
}

describe("scenario new", () => {
  it("--cause alone: the catalog's scenario for every known cause, valid", () => {
    for (const cause of knownCauses()) {
      const made = newScenario({ cause });
      expect(made.text.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=\//);
      expect(made.text).toContain(`--cause ${cause}`);
      expect(() => loadScenario(`${cause}.yaml`, facts, made.text), cause).not.toThrow();
    }
  });

  it("--from: the host's sysctls and the full listener's limit, with where they came from", () => {
    const made = newScenario({ snapshot: snapshot() });
    expect(made.cause).toBe("accept-queue-overflow");
    const loaded = loadScenario("gen.yaml", facts, made.text);
    const [baseline, mitigated] = loaded.variants;
    const server = baseline!.scenario.nodes["server"]!;
    expect(server.app).toMatchObject({ listen: 9000, backlog: 128 });
    expect(server.sysctls).toMatchObject({
      "net.core.somaxconn": 128,
      "net.ipv4.tcp_max_syn_backlog": 512,
    });
    expect(baseline!.scenario.nodes["client"]!.sysctls["net.ipv4.tcp_syn_retries"]).toBe(6);
    // A first wave that fills the queue of 128 (it holds 129), then one that meets it full.
    const replicas = baseline!.scenario.nodes["client"]!.replicas ?? 1;
    const [fill, burst] = baseline!.scenario.traffic.map((t) => t.connections * replicas);
    expect(fill).toBeGreaterThanOrEqual(129);
    expect(burst).toBeGreaterThan(0);
    const attempts = fill! + burst!;
    expect(baseline!.scenario.expect.cause).toBe("accept-queue-overflow");
    expect(mitigated!.name).toBe("mitigated");
    expect(mitigated!.scenario.nodes["server"]!.app!.backlog).toBeGreaterThan(attempts);
    expect(mitigated!.scenario.nodes["server"]!.sysctls["net.core.somaxconn"]).toBeGreaterThan(
      attempts,
    );
    expect(mitigated!.scenario.expect.cause).toBe("none");
    expect(made.text).toMatch(/net\.core\.somaxconn: 128 # from the snapshot \(web1\)/);
    expect(made.text).toMatch(/equal to\s+# somaxconn/);
    expect(made.text).toMatch(/Host values come from the snapshot of web1/);
    expect((parse(made.text) as { name: string }).name).toBe("repro-accept-queue-overflow");
  });

  it("--from: the traffic goes to the host's port, not the catalog's 8080", () => {
    const made = newScenario({ snapshot: snapshot() });
    const [baseline] = loadScenario("gen.yaml", facts, made.text).variants;
    expect(baseline!.scenario.traffic.every((t) => t.to.port === 9000)).toBe(true);
  });

  it("--from with --cause: the host's sysctls win over the catalog's, said in the comment", () => {
    const s = snapshot({
      sysctls: {
        "net.ipv4.tcp_syn_retries": 6,
        "net.ipv4.tcp_tw_reuse": 2,
        "net.ipv4.ip_local_port_range": "41000 41015",
      },
      states: { TIME_WAIT: 16 },
    });
    const made = newScenario({ snapshot: s, cause: "port-exhaustion" });
    expect(made.text).toMatch(/tcp_tw_reuse: 2 # from the snapshot \(web1\); the catalog has 0/);
    const [baseline, mitigated] = loadScenario("gen.yaml", facts, made.text).variants;
    const client = baseline!.scenario.nodes["client"]!;
    expect(client.sysctls["net.ipv4.ip_local_port_range"]).toBe("41000 41015");
    expect(baseline!.scenario.traffic[0]!.connections).toBe(36);
    expect(raw(made).expect.clients).toMatchObject({ connected: "== 16", EADDRNOTAVAIL: "== 20" });
    expect(raw(made).variants["mitigated"]!.expect.clients).toMatchObject({ connected: "== 36" });
    expect(mitigated!.name).toBe("mitigated");
    expect(made.notes.join("\n")).toMatch(/not carried over: which destinations/);
  });

  it("--from, port range too wide to use up in a test: narrowed, the comment says why", () => {
    const s = snapshot({
      sysctls: { "net.ipv4.ip_local_port_range": "32768 60999", "net.ipv4.tcp_tw_reuse": 0 },
    });
    const made = newScenario({ snapshot: s, cause: "port-exhaustion" });
    expect(made.text).toMatch(/not the host's 32768 60999: using up 28232 ports/);
  });

  describe("syn-queue-overflow on the host's numbers, both drop paths", () => {
    const flooded = (backlog: number, maxSyn: number, reqQFull: number) =>
      snapshot({
        sysctls: {
          "net.core.somaxconn": 4096,
          "net.ipv4.tcp_syncookies": 0,
          "net.ipv4.tcp_max_syn_backlog": maxSyn,
          "net.ipv4.tcp_synack_retries": 5,
        },
        counters: {
          TcpExtListenOverflows: 0,
          TcpExtListenDrops: 2795,
          TcpExtTCPReqQFullDrop: reqQFull,
          TcpExtTCPReqQFullDoCookies: 0,
          TcpExtSyncookiesSent: 0,
          TcpActiveOpens: 1,
        },
        listen: [{ family: "ipv4", address: "0.0.0.0", port: 7070, recvQ: 0, sendQ: backlog }],
      });

    it("the last quarter (ListenDrops, no TCPReqQFullDrop): no TCPReqQFullDrop expected", () => {
      const made = newScenario({ snapshot: flooded(128, 64, 0) });
      expect(made.cause).toBe("syn-queue-overflow");
      const [baseline] = loadScenario("gen.yaml", facts, made.text).variants;
      const server = baseline!.scenario.nodes["server"]!;
      expect(server.app).toMatchObject({ listen: 7070, backlog: 128 });
      expect(server.sysctls).toMatchObject({
        "net.ipv4.tcp_max_syn_backlog": 64,
        "net.ipv4.tcp_syncookies": 0,
      });
      expect(baseline!.scenario.floods[0]!.to.port).toBe(7070);
      expect(baseline!.scenario.traffic[0]!.to.port).toBe(7070);
      expect(raw(made).expect.counters.server).toEqual({
        TcpExtListenDrops: "> 0",
        TcpExtTCPReqQFullDrop: "== 0",
        TcpExtSyncookiesSent: "== 0",
      });
      expect(made.text).not.toMatch(/the catalog's value/);
      expect(made.text).toMatch(/not the host's: its flood's size is not in a snapshot/);
    });

    it("the full queue (TCPReqQFullDrop): expected as the host showed it", () => {
      const made = newScenario({ snapshot: flooded(8, 64, 2000) });
      expect(raw(made).expect.counters.server).toMatchObject({
        TcpExtTCPReqQFullDrop: "> 0",
      });
      expect(made.notes.join("\n")).not.toMatch(/predicts the other/);
    });
  });

  it("conntrack-table-full: the host's nf_conntrack_max, more held flows than it holds", () => {
    const s = snapshot({
      sysctls: { "net.netfilter.nf_conntrack_max": 100, "net.netfilter.nf_conntrack_count": 100 },
      counters: { NfConntrackDrop: 50, NfConntrackInsertFailed: 0, TcpActiveOpens: 1 },
      listen: [],
    });
    const made = newScenario({ snapshot: s });
    expect(made.cause).toBe("conntrack-table-full");
    const [baseline, mitigated] = loadScenario("gen.yaml", facts, made.text).variants;
    expect(baseline!.scenario.kernelSysctls).toEqual({ "net.netfilter.nf_conntrack_max": 100 });
    const total = baseline!.scenario.traffic[0]!.connections * 2;
    expect(total).toBeGreaterThanOrEqual(140);
    expect(mitigated!.scenario.kernelSysctls!["net.netfilter.nf_conntrack_max"]).toBeGreaterThan(
      total,
    );
  });

  it("neighbour-table-full: the host's gc_thresh (kernel-wide), twice thresh3 clients", () => {
    const made = newScenario({
      cause: "neighbour-table-full",
      snapshot: snapshot({
        sysctls: {
          "net.ipv4.neigh.default.gc_thresh1": 8,
          "net.ipv4.neigh.default.gc_thresh2": 16,
          "net.ipv4.neigh.default.gc_thresh3": 24,
        },
        counters: { ArpCacheEntries: 24, ArpCacheTableFulls: 9, TcpActiveOpens: 1 },
      }),
    });
    const [baseline, , mitigated] = loadScenario("gen.yaml", facts, made.text).variants;
    expect(baseline!.scenario.kernelSysctls).toMatchObject({
      "net.ipv4.neigh.default.gc_thresh3": 24,
    });
    expect(baseline!.scenario.nodes["client"]!.replicas).toBe(48);
    expect(mitigated!.name).toBe("mitigated");
  });

  it("tw-bucket-overflow and close-wait-leak: the host's bucket limit, port and leak size", () => {
    const tw = newScenario({
      snapshot: snapshot({
        sysctls: { "net.ipv4.tcp_max_tw_buckets": 32 },
        counters: { TcpExtTCPTimeWaitOverflow: 300, TcpActiveOpens: 1 },
      }),
    });
    expect(tw.cause).toBe("tw-bucket-overflow");
    const [t] = loadScenario("gen.yaml", facts, tw.text).variants;
    expect(t!.scenario.nodes["server"]!.sysctls["net.ipv4.tcp_max_tw_buckets"]).toBe(32);
    expect(t!.scenario.nodes["server"]!.app!.listen).toBe(9000);
    expect(t!.scenario.traffic[0]!.connections).toBe(156);

    const cw = newScenario({
      snapshot: snapshot({
        listen: [{ family: "ipv4", address: "0.0.0.0", port: 5555, recvQ: 0, sendQ: 128 }],
        states: { LISTEN: 1, CLOSE_WAIT: 45 },
      }),
    });
    expect(cw.cause).toBe("close-wait-leak");
    const [c] = loadScenario("gen.yaml", facts, cw.text).variants;
    expect(c!.scenario.nodes["server"]!.app!.listen).toBe(5555);
    expect(c!.scenario.traffic[0]!.connections).toBe(45);
    expect(raw(cw).expect.sockets.server).toEqual({ CLOSE_WAIT: "> 36" });
  });

  it("an unknown cause, or a snapshot with none: a usage error listing the known causes", () => {
    expect(() => newScenario({ cause: "gremlins" })).toThrow(UsageError);
    expect(() => newScenario({ cause: "gremlins" })).toThrow(
      /known causes: accept-queue-overflow, /,
    );
    const quiet = snapshot({ listen: [] });
    expect(() => newScenario({ snapshot: quiet })).toThrow(
      /names no cause with a catalog scenario.*--cause NAME/,
    );
    expect(() => newScenario({})).toThrow(UsageError);
  });
});
