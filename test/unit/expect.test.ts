import { describe, expect, it } from "vitest";
import { summarizeAttempts, percentile } from "../../src/evidence/clients.js";
import type { Attempt, NodeEvidence } from "../../src/evidence/types.js";
import { ExpectSchema } from "../../src/scenario/schema.js";
import { evaluateExpect, sumCounter } from "../../src/verdict/expect.js";
import { kernelSatisfies, skipReason } from "../../src/verdict/requires.js";

const node = (counters: Record<string, number>): NodeEvidence => ({
  counters,
  available: Object.keys(counters),
});
const nodes = {
  server: node({ TcpExtListenOverflows: 45, TcpExtListenDrops: 45 }),
  "client.1": node({ TcpExtTCPSynRetrans: 20 }),
  "client.2": node({ TcpExtTCPSynRetrans: 25 }),
};
const attempt = (outcome: string, connectMs?: number): Attempt => ({
  node: "client.1",
  startMs: 0,
  outcome,
  phase: "connect",
  connectMs,
});
const clients = summarizeAttempts([
  ...Array.from({ length: 9 }, (_, i) => attempt("connected", 1 + i)),
  ...Array.from({ length: 91 }, () => attempt("timeout")),
]);

describe("expectations", () => {
  it("sums a replicated node's counters", () => {
    expect(sumCounter(nodes, "client", "TcpExtTCPSynRetrans")).toBe(45);
    expect(sumCounter(nodes, "client", "TcpExtNoSuchCounter")).toBeNull();
  });

  it("reports expected vs actual, and fails what does not hold", () => {
    const e = ExpectSchema.parse({
      counters: {
        server: { TcpExtListenOverflows: "> 0" },
        client: { TcpExtTCPSynRetrans: ">= 50" },
      },
      clients: { timedOut: "> 0", connected: "== 100", connectMs: { p50: "< 10ms" } },
      cause: "accept-queue-overflow",
    });
    const rows = evaluateExpect(e, nodes, clients, ["accept-queue-overflow"], {
      "clients.connected": "x.yaml:9",
    });
    const byPath = Object.fromEntries(rows.map((r) => [r.path, r]));
    expect(byPath["counters.server.TcpExtListenOverflows"]).toMatchObject({
      ok: true,
      actual: 45,
      expected: "> 0",
    });
    expect(byPath["counters.client.TcpExtTCPSynRetrans"]).toMatchObject({ ok: false, actual: 45 });
    expect(byPath["clients.timedOut"]).toMatchObject({ ok: true, actual: 91 });
    expect(byPath["clients.connected"]).toMatchObject({ ok: false, actual: 9, source: "x.yaml:9" });
    expect(byPath["clients.connectMs.p50"]).toMatchObject({ ok: true, actual: 5 });
    expect(byPath["cause"]).toMatchObject({ ok: true });
  });

  it("cause none holds only when nothing else was named", () => {
    const e = ExpectSchema.parse({ cause: "none" });
    expect(evaluateExpect(e, nodes, clients, ["none"])[0]!.ok).toBe(true);
    expect(evaluateExpect(e, nodes, clients, [])[0]!.ok).toBe(true);
    expect(evaluateExpect(e, nodes, clients, ["accept-queue-overflow"])[0]!.ok).toBe(false);
  });

  it("a counter missing on this kernel never passes silently", () => {
    const e = ExpectSchema.parse({ counters: { server: { TcpExtPAWSPassive: "== 0" } } });
    expect(evaluateExpect(e, nodes, clients, undefined)[0]).toMatchObject({
      ok: false,
      actual: "not on this kernel",
    });
  });

  it("nearest-rank percentiles", () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(clients.connectMs).toEqual({ p50: 5, p90: 9, p99: 9, max: 9 });
  });
});

describe("requires", () => {
  it("kernel ranges", () => {
    expect(kernelSatisfies("6.18.44-fc-v669", ">=4.10")).toBe(true);
    expect(kernelSatisfies("6.18.44", ">=3.10, <4.12")).toBe(false);
    expect(kernelSatisfies("4.9.0", "<4.12")).toBe(true);
  });

  it("skips, with the reason, what this kernel lacks", () => {
    const inv = {
      release: "6.18.0",
      counters: new Set(["TcpExtListenOverflows"]),
      sysctlExists: (n: string) => n !== "net.ipv4.tcp_tw_recycle",
      qdiscs: new Set<string>(),
    };
    const base = { requires: {}, nodes: {}, expect: {} } as never;
    expect(skipReason(base, inv)).toBeUndefined();
    expect(
      skipReason({ ...(base as object), requires: { kernel: "<4.12" } } as never, inv),
    ).toMatch(/needs kernel <4.12/);
    expect(
      skipReason(
        { ...(base as object), requires: { sysctls: ["net.ipv4.tcp_tw_recycle"] } } as never,
        inv,
      ),
    ).toMatch(/tcp_tw_recycle does not exist/);
    expect(
      skipReason(
        {
          ...(base as object),
          expect: { counters: { server: { TcpExtPAWSPassive: {} } } },
        } as never,
        inv,
      ),
    ).toMatch(/TcpExtPAWSPassive does not exist/);
    // A kernel whose skb:kfree_skb has no reason (5.10): drop expectations SKIP, others run.
    const old = { ...inv, noDropReasons: "kernel 5.10's skb:kfree_skb has no reason field" };
    const drops = { ...(base as object), expect: { drops: { NETFILTER_DROP: {} } } } as never;
    expect(skipReason(drops, old)).toMatch(/expects drop reasons: kernel 5\.10's/);
    expect(skipReason(drops, inv)).toBeUndefined();
    expect(skipReason(base, old)).toBeUndefined();
    // 4.11: tcp_abort_on_overflow exists, but only in the initial namespace: a node cannot set it.
    const k411 = {
      ...inv,
      release: "4.11.0",
      sysctlExists: () => true,
      sysctlPerNetns: (n: string) => n !== "net.ipv4.tcp_abort_on_overflow",
    };
    const abort = (sysctl: string) =>
      ({ ...(base as object), nodes: { server: { sysctls: { [sysctl]: "1" } } } }) as never;
    expect(skipReason(abort("net.ipv4.tcp_abort_on_overflow"), k411)).toMatch(
      /tcp_abort_on_overflow is not per network namespace on kernel 4\.11\.0/,
    );
    expect(skipReason(abort("net.ipv4.tcp_tw_recycle"), k411)).toBeUndefined();
  });
});
