import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenario, splitSetKey } from "../../src/scenario/load.js";
import { ScenarioError } from "../../src/util/errors.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const badDir = join(here, "../fixtures/bad");
const scenariosDir = join(here, "../../scenarios");

/** A kernel with every sysctl except the ones these tests invent. */
const facts: KernelFacts = {
  sysctlExists: (name) => !name.includes("frobnicate") && name !== "net.ipv4.tcp_tw_recycle",
};

function problemsOf(file: string, text?: string) {
  try {
    loadScenario(file, facts, text);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  return [];
}

describe("broken scenario files are refused with file, line and key", () => {
  const files = readdirSync(badDir).filter((f) => f.endsWith(".yaml"));
  it("has a fixture set", () => expect(files.length).toBeGreaterThanOrEqual(15));

  for (const name of files) {
    it(name, () => {
      const file = join(badDir, name);
      // First line of each fixture: `# expect: LINE KEY MESSAGE…` (KEY "-" for a syntax error).
      const header = /^# expect: (\d+) (\S+) (.+)$/.exec(
        readFileSync(file, "utf8").split("\n")[0]!,
      );
      expect(header, "fixture needs an # expect: header").not.toBeNull();
      const [, line, key, message] = header!;
      const problems = problemsOf(file);
      expect(problems.length).toBeGreaterThan(0);
      const match = problems.find(
        (p) =>
          p.line === Number(line) &&
          (key === "-" || p.key.includes(key!)) &&
          p.message.toLowerCase().includes(message!.toLowerCase()),
      );
      expect(
        match,
        `wanted line ${line}, key ${key}, "${message}"; got ${JSON.stringify(problems)}`,
      ).toBeDefined();
      expect(match!.file).toBe(file);
    });
  }
});

describe("the catalog", () => {
  for (const name of readdirSync(scenariosDir).filter((f) => f.endsWith(".yaml"))) {
    it(`${name} validates`, () => {
      const s = loadScenario(join(scenariosDir, name), facts);
      expect(s.variants[0]!.name).toBe("baseline");
      expect(s.summary.length).toBeGreaterThan(20);
    });
  }
});

describe("variants", () => {
  const text = `name: v
summary: variants patch the scenario
networks: [wan]
nodes:
  client: { networks: [wan], sysctls: { net.ipv4.tcp_syn_retries: 2 } }
  server: { networks: [wan], app: { listen: 8080, backlog: 8, accept: never } }
traffic:
  - { from: client, to: "server:8080", connections: 10, concurrency: 10, connectTimeout: 1.5s }
expect:
  counters: { server: { TcpExtListenOverflows: "> 0" } }
variants:
  mitigated:
    set:
      nodes.server.app.backlog: 1024
      nodes.client.sysctls.net.ipv4.tcp_syn_retries: 6
    expect:
      counters: { server: { TcpExtListenOverflows: "== 0" } }
`;
  const s = loadScenario("inline.yaml", facts, text);

  it("expands the baseline and each variant, with its own expect", () => {
    expect(s.variants.map((v) => v.name)).toEqual(["baseline", "mitigated"]);
    const [base, mitigated] = s.variants;
    expect(base!.scenario.nodes.server!.app!.backlog).toBe(8);
    expect(mitigated!.scenario.nodes.server!.app!.backlog).toBe(1024);
    expect(mitigated!.scenario.nodes.client!.sysctls["net.ipv4.tcp_syn_retries"]).toBe(6);
    expect(mitigated!.scenario.expect.counters!.server!.TcpExtListenOverflows!.op).toBe("==");
    expect(base!.scenario.expect.counters!.server!.TcpExtListenOverflows!.op).toBe(">");
  });

  it("parses durations once, to milliseconds", () => {
    expect(s.variants[0]!.scenario.traffic[0]!.connectTimeout).toBe(1500);
  });

  it("remembers the line each expectation came from", () => {
    expect(s.variants[0]!.expectSource["counters.server.TcpExtListenOverflows"]).toBe(
      "inline.yaml:10",
    );
    expect(s.variants[1]!.expectSource["counters.server.TcpExtListenOverflows"]).toBe(
      "inline.yaml:17",
    );
  });

  it("keeps a dotted sysctl name as one key", () => {
    expect(splitSetKey("nodes.client.sysctls.net.ipv4.tcp_syn_retries")).toEqual([
      "nodes",
      "client",
      "sysctls",
      "net.ipv4.tcp_syn_retries",
    ]);
  });

  it("a sysctl this kernel lacks is an error unless requires lists it", () => {
    const tw = text.replace("net.ipv4.tcp_syn_retries: 2", "net.ipv4.tcp_tw_recycle: 1");
    expect(problemsOf("tw.yaml", tw)[0]!.message).toMatch(/does not exist on this kernel/);
    const declared = tw.replace(
      "networks: [wan]\n",
      "networks: [wan]\nrequires: { sysctls: [net.ipv4.tcp_tw_recycle] }\n",
    );
    expect(problemsOf("tw.yaml", declared)).toEqual([]);
  });
});
