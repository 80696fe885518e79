import { describe, expect, it } from "vitest";
import { loadScenario, loadSources, ScenarioError } from "../../src/index.js";

const scenario = {
  name: "obj",
  summary: "a scenario as an object",
  networks: ["wan"],
  nodes: {
    client: { networks: ["wan"] },
    server: { networks: ["wan"], app: { listen: 8080, backlog: 8 } },
  },
  traffic: [{ from: "client", to: "server:8080", connections: 10, connectTimeout: "1s" }],
  variants: { mitigated: { set: { "nodes.server.app.backlog": 1024 } } },
};

describe("scenarios as objects", () => {
  it("load like files: validated, durations parsed, variants expanded", () => {
    const loaded = loadScenario(scenario);
    expect(loaded.file).toBe("<scenario obj>");
    expect(loaded.variants.map((v) => v.name)).toEqual(["baseline", "mitigated"]);
    expect(loaded.variants[0]!.scenario.traffic[0]!.connectTimeout).toBe(1000);
    expect(loaded.variants[1]!.scenario.nodes.server!.app!.backlog).toBe(1024);
  });

  it("bad keys are refused with the key, all problems of all sources together", () => {
    const bad = {
      ...scenario,
      nodes: { ...scenario.nodes, server: { networks: ["wan"], ready: { port: 80 } } },
    };
    let problems: ScenarioError["problems"] = [];
    try {
      loadSources([bad, { ...scenario, name: "two", settle: "soon" }]);
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioError);
      problems = (err as ScenarioError).problems;
    }
    expect(problems.map((p) => `${p.file} ${p.key}`)).toEqual([
      "<scenario obj> nodes.server.ready",
      "<scenario two> settle",
    ]);
  });
});
