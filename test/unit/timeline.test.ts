import { describe, expect, it } from "vitest";
import { TimelineSampler, socketEvidence, stateSeries } from "../../src/evidence/timeline.js";
import type { StartedNode } from "../../src/runtime/runtime.js";
import { sleep } from "../../src/util/time.js";

/** A node whose ListenOverflows grows by 5 per read after the third read; its app queue is full. */
function fakeNode(name: string): StartedNode & { reads: number } {
  const node = {
    name,
    addresses: {},
    reads: 0,
    async readProcNet(file: string) {
      if (file === "netstat") {
        node.reads++;
        const overflows = Math.max(0, node.reads - 3) * 5;
        return `TcpExt: ListenOverflows ListenDrops DelayedACKs\nTcpExt: ${overflows} ${overflows} ${node.reads}\n`;
      }
      if (file === "snmp") return "Tcp: OutRsts\nTcp: 0\n";
      if (file === "tcp")
        return "  sl  local_address rem_address   st tx_queue rx_queue\n   0: 00000000:1F90 00000000:0000 0A 00000000:00000009 00:00000000 00000000 0 0 1\n   1: 0A0012C6:1F90 0B0012C6:9C42 03 00000000:00000000 00:00000000 00000000 0 0 0\n";
      return undefined;
    },
    exec: async () => ({ stdout: "", stderr: "" }),
    spawn: async () => {
      throw new Error("not used");
    },
    readFile: async () => undefined,
    pause: async () => undefined,
    unpause: async () => undefined,
  };
  return node;
}

describe("timeline sampler", () => {
  it("records notable counters that moved, the queue, faults and the first drop", async () => {
    const server = fakeNode("server");
    const before = new Map([
      [
        "server",
        { TcpExtListenOverflows: 0, TcpExtListenDrops: 0, TcpExtDelayedACKs: 0, TcpOutRsts: 0 },
      ],
    ]);
    const t0 = performance.now();
    const sampler = new TimelineSampler([server], before, new Map([["server", 8080]]), t0, 20);
    sampler.start();
    await sleep(150);
    sampler.mark({ target: "server", action: "SIGSTOP" });
    await sleep(60);
    const t = await sampler.stop();
    expect(t.tMs.length).toBeGreaterThanOrEqual(5);
    expect(t.tMs).toEqual([...t.tMs].sort((a, b) => a - b));
    // Only notable counters that moved: DelayedACKs moves but says nothing; OutRsts did not move.
    expect(Object.keys(t.counters.server!).sort()).toEqual([
      "TcpExtListenDrops",
      "TcpExtListenOverflows",
    ]);
    const overflows = t.counters.server!.TcpExtListenOverflows!;
    expect(overflows.length).toBe(t.tMs.length);
    expect(overflows[0]).toBe(0);
    expect(overflows[overflows.length - 1]).toBeGreaterThan(0);
    expect(t.firstDropMs).toBe(t.tMs[overflows.findIndex((v) => v > 0)]);
    expect(t.listen.server!.recvQ.every((q) => q === 9)).toBe(true);
    expect(t.listen.server!.synRecv.every((n) => n === 1)).toBe(true);
    // The same read counts sockets per state: the listener and the half-open connection.
    expect(t.sockets!.server).toEqual({
      SYN_RECV: t.tMs.map(() => 1),
      LISTEN: t.tMs.map(() => 1),
    });
    expect(socketEvidence(t, "server")).toEqual({
      max: { SYN_RECV: 1, LISTEN: 1 },
      final: { SYN_RECV: 1, LISTEN: 1 },
    });
    expect(t.faults).toHaveLength(1);
    expect(t.faults[0]!.atMs).toBeGreaterThanOrEqual(140);
    expect(t.sampleCostMs).toBeGreaterThanOrEqual(0);
  });
});

describe("socket states", () => {
  it("keeps a series per state any sample saw, 0 where a sample had none", () => {
    const series = stateSeries(
      new Map([["server", [{ ESTABLISHED: 2 }, { ESTABLISHED: 1, CLOSE_WAIT: 3 }, {}]]]),
    );
    expect(series).toEqual({ server: { ESTABLISHED: [2, 1, 0], CLOSE_WAIT: [0, 3, 0] } });
  });

  it("gives the most in one sample and the last sample", () => {
    const t = {
      tMs: [0, 100, 200],
      counters: {},
      listen: {},
      sockets: { server: { CLOSE_WAIT: [0, 60, 58], FIN_WAIT2: [5, 0, 0] } },
      faults: [],
      firstDropMs: null,
      sampleCostMs: 1,
    };
    expect(socketEvidence(t, "server")).toEqual({
      max: { CLOSE_WAIT: 60, FIN_WAIT2: 5 },
      final: { CLOSE_WAIT: 58 },
    });
    expect(socketEvidence(t, "client")).toBeUndefined();
  });
});
