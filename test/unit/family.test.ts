import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { firewallsOf, ipv4OnlyMatch } from "../../src/faults/firewall.js";
import { composeFile } from "../../src/run/compose.js";
import { gatewayRulesWith, planTopology, routeWith, type AddressBook } from "../../src/run/plan.js";
import type { StartedNode } from "../../src/runtime/runtime.js";
import { inFamily } from "../../src/engine/run.js";
import {
  networkFamily,
  pinsFamily,
  reportedFamily,
  trafficFamily,
  withFamily,
} from "../../src/scenario/family.js";
import { loadScenario } from "../../src/scenario/load.js";
import { familySkipReason } from "../../src/verdict/family.js";
import { compareReports } from "../../src/report/compare.js";
import { formatReport } from "../../src/report/console.js";
import { junitXml } from "../../src/report/junit.js";
import { htmlReport } from "../../src/report/html.js";
import type { RunReport } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";
import { substitute } from "../../src/traffic/command-traffic.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const facts = { sysctlExists: () => true };
const load = (file: string) => loadScenario(file, facts, readFileSync(`${ROOT}/${file}`, "utf8"));
const DUAL = "examples/scenarios/dual-stack-snat.yaml";
const SNAT = "scenarios/snat-port-reuse.yaml";

/** Addresses like a runtime's: 198.18.<net>.<host> and 2001:2:0:<net>::<host>. */
const book: AddressBook = (node, family) => {
  const host = { gw: 1, client: 2, client4: 3, client6: 4, server: 5 }[node] ?? 9;
  const nets = { lan: 0, wan: 1 };
  return Object.fromEntries(
    Object.entries(nets).map(([n, i]) => [
      n,
      family === "ipv6" ? `2001:2:0:${i}::${host}` : `198.18.${i}.${host}`,
    ]),
  );
};

describe("address families", () => {
  it("run --family ipv6 moves a scenario that pins none, and leaves one that pins", () => {
    const snat = load(SNAT).variants[0]!.scenario;
    expect(pinsFamily(snat)).toBe(false);
    const six = withFamily(snat, "ipv6");
    expect(networkFamily(six, "lan")).toBe("ipv6");
    expect(trafficFamily(six, six.traffic[0]!)).toBe("ipv6");
    expect(reportedFamily(six)).toBe("ipv6");
    const dual = load(DUAL);
    expect(inFamily(dual, "ipv6").variants[0]!.scenario.family).toBe("dual");
    expect(reportedFamily(dual.variants[0]!.scenario)).toBe("dual");
  });

  it("a dual scenario resolves each traffic item in its own family", () => {
    const s = load(DUAL).variants[0]!.scenario;
    expect(s.traffic.map((t) => trafficFamily(s, t))).toEqual(["ipv4", "ipv6"]);
    expect(s.traffic.map((t) => routeWith(s, book, t).host)).toEqual([
      "198.18.0.1",
      "2001:2:0:0::1",
    ]);
    const { plan } = planTopology(s, "r");
    expect(plan.networks).toEqual([
      { name: "lan", family: "dual" },
      { name: "wan", family: "dual" },
    ]);
    expect(plan.nodes.find((n) => n.name === "gw")!.sysctls).toMatchObject({
      "net.ipv4.ip_forward": "1",
      "net.ipv6.conf.all.forwarding": "1",
    });
  });

  it("the gateway translates IPv6 with ip6tables, addresses with ports in brackets", () => {
    const s = load(DUAL).variants[0]!.scenario;
    const rules = gatewayRulesWith(s, book).get("gw")!;
    expect(rules.map((r) => r[0])).toEqual(["iptables", "iptables", "ip6tables", "ip6tables"]);
    expect(rules[2]).toContain("[2001:2:0:1::5]:8080");
    expect(rules[3]!.at(-1)).toBe("[2001:2:0:1::1]:40000-40001");
    expect(rules[1]!.at(-1)).toBe("198.18.1.1:40000-40001");
  });

  it("a network may set its own family; a traffic item may not ask for one its network lacks", () => {
    const text = readFileSync(`${ROOT}/${SNAT}`, "utf8").replace(
      "networks: [lan, wan]",
      "networks: [{ name: lan, family: ipv6 }, wan]",
    );
    const s = loadScenario("x.yaml", facts, text).variants[0]!.scenario;
    expect(networkFamily(s, "lan")).toBe("ipv6");
    expect(networkFamily(s, "wan")).toBe("ipv4");
    expect(pinsFamily(s)).toBe(true);
    const bad = readFileSync(`${ROOT}/${SNAT}`, "utf8").replace(
      "close: server, connectTimeout: 1s",
      "close: server, family: ipv6, connectTimeout: 1s",
    );
    expect(() => loadScenario("x.yaml", facts, bad)).toThrow(/network "lan" has no ipv6/);
  });

  it("IPv4-only firewall rules go to iptables alone, and SKIP a scenario over IPv6", () => {
    expect(ipv4OnlyMatch(["-I", "INPUT", "-p", "tcp", "--syn", "-j", "DROP"])).toBeUndefined();
    expect(ipv4OnlyMatch(["-I", "INPUT", "-s", "198.18.0.0/15", "-j", "DROP"])).toBe(
      "198.18.0.0/15",
    );
    expect(ipv4OnlyMatch(["-A", "OUTPUT", "-p", "icmp", "-j", "DROP"])).toBe("icmp");
    const node = (v4: boolean, v6: boolean) =>
      ({
        addresses: v4 ? { lan: "198.18.0.1" } : {},
        ...(v6 ? { addresses6: { lan: "2001:2::1" } } : {}),
      }) as unknown as StartedNode;
    const rule = ["-I", "OUTPUT", "-j", "DROP"];
    expect(firewallsOf(node(true, false), rule)).toEqual(["iptables"]);
    expect(firewallsOf(node(false, true), rule)).toEqual(["ip6tables"]);
    expect(firewallsOf(node(true, true), rule)).toEqual(["iptables", "ip6tables"]);
    expect(firewallsOf(node(true, true), ["-p", "icmp"])).toEqual(["iptables"]);

    const s = withFamily(load(SNAT).variants[0]!.scenario, "ipv6");
    expect(familySkipReason(s)).toBeUndefined();
    const icmp = {
      ...s,
      faults: [{ at: 0, target: "gw", iptables: ["-A", "FORWARD", "-p", "icmp", "-j", "DROP"] }],
    };
    expect(familySkipReason(icmp)).toMatch(/"icmp" is an IPv4-only match/);
    const flood = withFamily(load("scenarios/syn-flood.yaml").variants[0]!.scenario, "ipv6");
    // hping3 has no IPv6: the agent's synflood sends the flood instead.
    expect(familySkipReason(flood)).toBeUndefined();
  });

  it("compose gives a dual network both subnets and each service both addresses", () => {
    const out = composeFile(load(DUAL));
    expect(out.subnets6).toEqual({ lan: "2001:2::/64", wan: "2001:2:0:1::/64" });
    const gw = out.services.find((x) => x.node === "gw")!;
    expect(gw.addresses6).toEqual({ lan: "2001:2::a", wan: "2001:2:0:1::a" });
    expect(out.text).toContain("enable_ipv6: true");
    expect(out.text).toContain("ip6tables -t nat -A PREROUTING -d 2001:2::a");
  });
});

describe("reports name the family", () => {
  const clients = (connected: number, timeout: number) => ({
    attempts: connected + timeout,
    outcomes: { connected, timeout },
    connectMs: null,
    replyMs: null,
  });
  const report: RunReport = {
    tool: { name: "tcprepro", version: "0" },
    kernel: "6.18",
    runtime: "netns",
    startedAt: "2026-12-06T10:00:00.000Z",
    durationMs: 1000,
    scenarios: [
      {
        name: "dual-stack-snat",
        file: DUAL,
        summary: "s",
        variants: [
          variantResult({
            family: "dual",
            clients: clients(37, 23),
            clientsByFamily: { ipv4: clients(18, 12), ipv6: clients(19, 11) },
          }),
        ],
      },
      { name: "plain", file: "p.yaml", summary: "s", variants: [variantResult()] },
    ],
  };

  it("JUnit, the console and compare", () => {
    const xml = junitXml(report);
    expect(xml).toContain('name="baseline [dual]"');
    expect(xml).toContain('<property name="family" value="dual"/>');
    const text = formatReport(report);
    expect(text).toMatch(/family\s+dual/);
    expect(text).toMatch(/ipv6 attempts\s+30/);
    expect(text).toContain("(kernel 6.18, netns, dual and ipv4,");
    expect(compareReports(report, report).a.families).toEqual(["dual", "ipv4"]);
  });
});

describe("a real client's placeholders over IPv6", () => {
  it("brackets the address in {url} and {target}, not in {host}", () => {
    const argv = substitute(["curl", "{url}/", "{target}", "{host}", "{port}"], {
      host: "2001:2::a",
      port: 80,
      family: "ipv6",
    });
    expect(argv).toEqual(["curl", "http://[2001:2::a]:80/", "[2001:2::a]:80", "2001:2::a", "80"]);
  });
});

describe("the HTML report of a dual variant", () => {
  it("has each family's outcomes on rows of their own", () => {
    const c = (connected: number, timeout: number) => ({
      attempts: connected + timeout,
      outcomes: { connected, timeout },
      connectMs: null,
      replyMs: null,
    });
    const html = htmlReport({
      tool: { name: "tcprepro", version: "0" },
      kernel: "6.18",
      runtime: "netns",
      startedAt: "2026-12-06T10:00:00.000Z",
      durationMs: 1,
      scenarios: [
        {
          name: "dual-stack-snat",
          file: DUAL,
          summary: "s",
          variants: [
            variantResult({
              family: "dual",
              clients: c(37, 23),
              clientsByFamily: { ipv4: c(18, 12), ipv6: c(19, 11) },
            }),
          ],
        },
      ],
    });
    expect(html).toContain("baseline (dual)");
    expect(html).toMatch(/ipv6 timeout<\/th><td class="num">11</);
  });
});

describe("a runtime that cannot give IPv6", () => {
  it("SKIPs a scenario with an IPv6 network, with its reason, and no other", () => {
    const caps = { ipv6: { reason: "the engine wires this run" } };
    const v4 = load(SNAT).variants[0]!.scenario;
    expect(familySkipReason(v4, caps)).toBeUndefined();
    expect(familySkipReason(withFamily(v4, "ipv6"), caps)).toBe("the engine wires this run");
    expect(familySkipReason(withFamily(v4, "ipv6"), { ipv6: true })).toBeUndefined();
  });
});
