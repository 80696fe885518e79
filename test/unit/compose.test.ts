import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { serveArgv } from "../../src/agent/protocol.js";
import { composeFile, composeSubnet, serviceName } from "../../src/run/compose.js";
import { gatewayRulesWith } from "../../src/run/plan.js";
import { loadScenario } from "../../src/scenario/load.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Every sysctl exists: the export does not depend on this host's kernel. */
const facts = { sysctlExists: () => true };
const STANDARD = "scenarios/accept-queue-overflow.yaml";
/** Loaded by its path relative to the repo, as the documented command names it. */
const load = (file: string) => loadScenario(file, facts, readFileSync(`${ROOT}/${file}`, "utf8"));

interface Service {
  image: string;
  cap_add: string[];
  sysctls?: Record<string, string>;
  networks: Record<string, { ipv4_address: string }>;
  command: string[];
}

describe("tcprepro compose", () => {
  it("docker-compose.yml is the export of the standard topology (regenerate: npx tcprepro compose scenarios/accept-queue-overflow.yaml -o docker-compose.yml)", () => {
    expect(readFileSync(`${ROOT}/docker-compose.yml`, "utf8")).toBe(
      composeFile(load(STANDARD)).text,
    );
  });

  it("gives networks fixed internal subnets from 198.18.0.0/15, in order", () => {
    expect([0, 1, 2, 3].map(composeSubnet)).toEqual([
      "198.19.254.0/24",
      "198.19.255.0/24",
      "198.18.0.0/24",
      "198.18.1.0/24",
    ]);
    const doc = parse(composeFile(load(STANDARD)).text);
    expect(doc.networks).toEqual({
      lan: {
        internal: true,
        ipam: { config: [{ subnet: "198.19.254.0/24", gateway: "198.19.254.1" }] },
      },
      wan: {
        internal: true,
        ipam: { config: [{ subnet: "198.19.255.0/24", gateway: "198.19.255.1" }] },
      },
    });
  });

  it("makes every node instance a service with fixed addresses, capabilities and sysctls", () => {
    const out = composeFile(load(STANDARD));
    const services: Record<string, Service> = parse(out.text).services;
    expect(Object.keys(services)).toEqual(["gw", "client-1", "client-2", "server"]);
    expect(out.services.map((s) => s.service)).toEqual(Object.keys(services));
    expect(serviceName("client.2")).toBe("client-2");
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.image).toBe("tcprepro/node:latest");
      expect(svc.cap_add).toEqual(["NET_ADMIN", "NET_RAW"]);
      const own = out.services.find((s) => s.service === name)!.addresses;
      expect(
        Object.fromEntries(Object.entries(svc.networks).map(([n, a]) => [n, a.ipv4_address])),
      ).toEqual(own);
      // Every node drops its default route first, like the runtime.
      expect(svc.command.slice(0, 2)).toEqual(["sh", "-c"]);
      expect(svc.command[2]!.split("\n")[0]).toBe("ip -4 route del default || true");
    }
    expect(services.gw!.sysctls).toEqual({ "net.ipv4.ip_forward": "1" });
    const addrs = new Set(out.services.flatMap((s) => Object.values(s.addresses)));
    expect(addrs.size).toBe(5);
  });

  it("gives the gateway the rules a run adds, and the server the built-in app", () => {
    const loaded = load(STANDARD);
    const out = composeFile(loaded);
    const services: Record<string, Service> = parse(out.text).services;
    const book = (node: string) => out.services.find((s) => s.node === node)!.addresses;
    const rules = gatewayRulesWith(loaded.variants[0]!.scenario, book).get("gw")!;
    expect(rules).toHaveLength(2);
    const gw = services.gw!.command[2]!.split("\n");
    expect(gw.slice(1, -1)).toEqual(rules.map((r) => `${r.join(" ")} &&`));
    expect(gw.at(-1)).toBe("exec /opt/tcprepro/tcprepro-agent hold");
    const serve = serveArgv({
      port: 8080,
      backlog: 8,
      accept: "never",
      reply: true,
      closeFirst: false,
      resetOnClose: false,
    });
    expect(services.server!.command[2]!.split("\n").at(-1)).toBe(`exec ${serve.join(" ")}`);
    expect(services["client-1"]!.command[2]!.split("\n").at(-1)).toBe(
      "exec /opt/tcprepro/tcprepro-agent hold",
    );
    // The header shows how to drive the scenario's traffic to the gateway's own address.
    expect(out.text).toMatch(/^# accept-queue-overflow, as a Compose file/);
    expect(out.text).toContain(
      `exec client-1 /opt/tcprepro/tcprepro-agent connect --host ${book("gw").lan} --port 8080`,
    );
  });

  it("exports a variant's topology", () => {
    const services: Record<string, Service> = parse(
      composeFile(load(STANDARD), "mitigated").text,
    ).services;
    expect(services.server!.command[2]).toContain("--backlog 1024");
    expect(() => composeFile(load(STANDARD), "nope")).toThrow(/no variant named "nope"/);
  });

  it("exports every catalog scenario as valid YAML with unique addresses", () => {
    for (const file of ["sigstop-recovery", "port-exhaustion", "syn-flood", "snat-port-reuse"]) {
      const out = composeFile(load(`scenarios/${file}.yaml`));
      const doc = parse(out.text);
      expect(Object.keys(doc.services)).toEqual(out.services.map((s) => s.service));
      const addrs = out.services.flatMap((s) => Object.values(s.addresses));
      expect(new Set(addrs).size).toBe(addrs.length);
    }
  });
});
