/**
 * The core, on real containers and the real kernel: the accept-queue scenario overflows with
 * backlog 8 and does not with backlog 1024. Every number asserted here comes from the kernel.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/verdict/result.js";
import { cli, leftovers } from "./helpers.js";

describe("accept-queue-overflow on the real kernel", () => {
  const json = join(tmpdir(), `tcprepro-aq-${process.pid}.json`);
  let run: Awaited<ReturnType<typeof cli>>;
  let report: RunReport;

  it("runs both variants and exits 0", async () => {
    run = await cli(["run", "scenarios/accept-queue-overflow.yaml", "--json", json]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    rmSync(json, { force: true });
    expect(report.scenarios[0]!.variants.map((v) => v.verdict)).toEqual(["pass", "pass"]);
  });

  it("baseline: the server's accept queue overflows and clients stall", () => {
    const base = report.scenarios[0]!.variants.find((v) => v.variant === "baseline")!;
    expect(base.nodes.server!.counters.TcpExtListenOverflows).toBeGreaterThan(0);
    expect(base.nodes.server!.listen!.maxRecvQ[8080]).toBe(9);
    expect(base.nodes.server!.listen!.sendQ[8080]).toBe(8);
    expect(base.clients.attempts).toBe(100);
    expect(
      (base.clients.outcomes.timeout ?? 0) + (base.clients.outcomes.ETIMEDOUT ?? 0),
    ).toBeGreaterThan(0);
    // Replicas are reported one by one; the clients retransmitted their SYNs.
    expect(Object.keys(base.nodes).sort()).toEqual(["client.1", "client.2", "gw", "server"]);
    const synRetrans =
      (base.nodes["client.1"]!.counters.TcpExtTCPSynRetrans ?? 0) +
      (base.nodes["client.2"]!.counters.TcpExtTCPSynRetrans ?? 0);
    expect(synRetrans).toBeGreaterThan(0);
  });

  it("baseline on the wire and over time: unanswered SYNs, and when the first overflow came", () => {
    const base = report.scenarios[0]!.variants.find((v) => v.variant === "baseline")!;
    const p = base.nodes.server!.packets!;
    // 9 connections got a SYN-ACK; the other 91 sent SYNs (and retransmits) that got none.
    expect(p.synAckSent).toBeGreaterThanOrEqual(9);
    expect(p.synUnanswered).toBeGreaterThan(0);
    expect(p.synReceived).toBeGreaterThan(p.synAckSent);
    expect(p.rstSent).toBe(0);
    const t = base.timeline!;
    expect(t.firstDropMs).not.toBeNull();
    expect(t.firstDropMs!).toBeLessThan(1000);
    expect(Math.max(...t.listen.server!.recvQ)).toBe(9);
    expect(t.counters.server!.TcpExtListenOverflows!.at(-1)).toBe(
      base.nodes.server!.counters.TcpExtListenOverflows,
    );
  });

  it("mitigated: backlog 1024, no overflow, every client connects", () => {
    const m = report.scenarios[0]!.variants.find((v) => v.variant === "mitigated")!;
    expect(m.nodes.server!.counters.TcpExtListenOverflows ?? 0).toBe(0);
    expect(m.clients.outcomes.connected).toBe(100);
    expect(m.nodes.server!.listen!.sendQ[8080]).toBe(1024);
  });

  it("leaves no container or network behind", async () => {
    expect(await leftovers(run.pid)).toEqual({ containers: 0, networks: 0 });
  });
});
