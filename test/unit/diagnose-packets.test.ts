/** diagnose --pcap on the recorded fixtures (test/fixtures/pcap, real kernel): the cause each points at. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { diagnosePackets, withPackets } from "../../src/diagnosis/packets.js";
import { parsePcap } from "../../src/evidence/pcap.js";

const capture = (name: string) => ({
  file: name,
  capture: parsePcap(readFileSync(new URL(`../fixtures/pcap/${name}`, import.meta.url))),
});

describe("diagnose --pcap", () => {
  it("a closed port: SYNs answered by the stack's RST (IP id 0) name no-listener", () => {
    const p = diagnosePackets([capture("refused.pcap")]);
    expect(p.facts[0]).toMatchObject({ refused: 1, connected: 0, synUnanswered: 0 });
    expect(p.causes.map((c) => c.cause)).toEqual(["no-listener"]);
    expect(p.causes[0]!.because).toMatch(/RST with IP id 0/);
  });

  it("a server closing with unread data: a socket's RST (non-zero IP id) names active-reset", () => {
    const p = diagnosePackets([capture("reset-on-close.pcap")]);
    expect(p.facts[0]!.serverActiveRsts).toBeGreaterThan(0);
    expect(p.causes.map((c) => c.cause)).toEqual(["active-reset"]);
  });

  it("listen(0), never accept(): one queued, the other SYNs retransmitted unanswered", () => {
    for (const f of ["never-accept.pcap", "never-accept-sll2.pcap", "never-accept-swapped.pcap"]) {
      const p = diagnosePackets([capture(f)]);
      expect(p.facts[0], f).toMatchObject({ connected: 1, synUnanswered: 3 });
      expect(p.facts[0]!.synSchedule.length, f).toBeGreaterThan(1);
      expect(
        p.causes.map((c) => c.cause),
        f,
      ).toEqual(["accept-queue-overflow"]);
      expect(p.unchecked.join("\n")).toMatch(/TcpExtListenOverflows vs TcpExtTCPReqQFullDrop/);
    }
  });

  it("alone, with what to try and what packets cannot tell", () => {
    const d = withPackets(undefined, diagnosePackets([capture("refused.pcap")]));
    expect(d.whatToTry[0]).toMatchObject({ cause: "no-listener" });
    expect(d.unchecked.join("\n")).toMatch(/packets alone do not show the kernel's reasons/);
    expect(d.observations[0]).toMatch(/1 connections opened, 0 established/);
  });
});
