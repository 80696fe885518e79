/**
 * IPv6 on the real kernel (netns): `run({ family: "ipv6" })` moves a catalog scenario that pins
 * no family to IPv6 — its addresses, the dual-stack listener, the capture's IPv6 reset tell —
 * and a dual-stack scenario reports each family's outcomes behind one NAT gateway (NAT66 next
 * to NAT44). Nothing is left behind.
 */
import { describe, expect, it } from "vitest";
import { run } from "../../src/index.js";
import "../../src/vitest.js";
import { netnsLeftovers } from "./helpers.js";

describe("IPv6 (netns)", () => {
  it("connection-refused over IPv6: ECONNREFUSED, and every reset told passive by window 0 and no options", async () => {
    const report = await run(["scenarios/connection-refused.yaml"], {
      runtime: "netns",
      family: "ipv6",
    });
    const [baseline, mitigated] = report.scenarios[0]!.variants;
    expect(baseline).toMatchObject({ verdict: "pass", family: "ipv6" });
    expect(baseline!.attempts.every((a) => a.family === "ipv6")).toBe(true);
    expect(baseline!.clients.outcomes).toEqual({ ECONNREFUSED: 10 });
    expect(baseline!.nodes.server!.packets).toMatchObject({ rstPassive: 10, rstActive: 0 });
    expect(mitigated).toMatchObject({ verdict: "pass", family: "ipv6" });
    expect(mitigated!.clients.outcomes).toEqual({ connected: 10 });
    expect(netnsLeftovers(process.pid)).toBe(0);
  }, 120_000);

  it("dual-stack SNAT: both families collide at one gateway, each counted on its own", async () => {
    const report = await run(["examples/scenarios/dual-stack-snat.yaml"], {
      runtime: "netns",
      variant: "baseline",
    });
    const v = report.scenarios[0]!.variants[0]!;
    expect(v).toMatchObject({ verdict: "pass", family: "dual" });
    expect(v.clientsByFamily!.ipv4.attempts).toBe(30);
    expect(v.clientsByFamily!.ipv6.attempts).toBe(30);
    expect(v.nodes.gw!.counters.NfConntrackInsertFailed).toBeGreaterThan(0);
    expect(report).toHaveCause("snat-conntrack-collision");
    expect(netnsLeftovers(process.pid)).toBe(0);
  }, 180_000);
});
