/** validate --explain: everything a scenario would execute, per variant and node; --modprobe refused. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dockerfileRuns, explainScenario } from "../../src/scenario/explain.js";
import { iptablesProblem } from "../../src/faults/iptables.js";
import { kindOf } from "../../src/faults/registry.js";
import { loadScenario } from "../../src/scenario/load.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";
import { ScenarioError } from "../../src/util/errors.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const facts: KernelFacts = { sysctlExists: () => true };

/** The explanation split into variants, each into its nodes' blocks of lines. */
function blocks(text: string): Map<string, Map<string, string>> {
  const variants = new Map<string, Map<string, string>>();
  let nodes = new Map<string, string>();
  let node = "";
  for (const line of text.split("\n")) {
    const v = /^ {2}variant (\S+)/.exec(line);
    if (v) variants.set(v[1]!, (nodes = new Map()));
    const n = /^ {4}node (\S+)/.exec(line);
    if (n) nodes.set((node = n[1]!), "");
    else if (/^ {6}/.test(line)) nodes.set(node, nodes.get(node)! + line.trim() + "\n");
  }
  return variants;
}

describe("validate --explain", () => {
  it("lists a user image, a build, packages and commands per node and variant", () => {
    const loaded = loadScenario(join(here, "../fixtures/sandbox/everything.yaml"), facts);
    const v = blocks(explainScenario(loaded));
    expect([...v.keys()]).toEqual(["baseline", "other"]);
    for (const [variant, nodes] of v) {
      expect([...nodes.keys()]).toEqual(["web", "built", "client"]);
      expect(nodes.get("web")).toMatch(/image nginx:1\.27-alpine/);
      expect(nodes.get("web")).toMatch(/ready command wget -q -O- http:\/\/127\.0\.0\.1\//);
      expect(nodes.get("web")).toContain(
        `iptables -I INPUT -p tcp --dport 80 -j ${variant === "other" ? "REJECT" : "DROP"}`,
      );
      expect(nodes.get("built")).toMatch(/build context \S+fixtures\/user\/build, Dockerfile/);
      expect(nodes.get("built")).toContain("RUN chmod +x /usr/local/bin/announce");
      expect(nodes.get("client")).toMatch(/packages curl/);
      expect(nodes.get("client")).toContain(
        `command sh -c 'echo ${variant === "other" ? "other" : "client up"}; exec sleep 600'`,
      );
      expect(nodes.get("client")).toContain("curl -sS {url}/ (2 runs");
    }
    expect(explainScenario(loaded)).toMatch(/node client \(client\.1, client\.2\) — docker only/);
  });

  it("covers the whole catalog: every variant, node, fault argv and flood", () => {
    const dir = join(here, "../../scenarios");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".yaml"))) {
      const loaded = loadScenario(join(dir, f), facts);
      const v = blocks(explainScenario(loaded));
      for (const variant of loaded.variants) {
        const nodes = v.get(variant.name);
        expect(nodes, `${f} ${variant.name}`).toBeDefined();
        const s = variant.scenario;
        expect([...nodes!.keys()].sort(), f).toEqual(Object.keys(s.nodes).sort());
        s.faults.forEach((fault) => {
          const { name, params } = kindOf(fault);
          if (name === "iptables")
            expect(nodes!.get(fault.target), f).toContain(
              (params as string[]).slice(0, 4).join(" "),
            );
        });
        for (const flood of s.floods)
          expect(nodes!.get(flood.from), f).toContain(`hping3 -q -S -p ${flood.to.port}`);
        for (const t of s.traffic) expect(nodes!.get(t.from), f).toMatch(/traffic \d+ → /);
      }
    }
  });

  it("reads a Dockerfile's RUN lines, continuations joined", () => {
    expect(
      dockerfileRuns(
        "FROM x\nRUN apt-get update \\\n  && apt-get install -y y\nCOPY a b\nrun true\n",
      ),
    ).toEqual(["RUN apt-get update && apt-get install -y y", "run true"]);
  });
});

describe("an iptables argv that would run a host program is refused", () => {
  const refused = [
    ["-I", "INPUT", "-j", "DROP", "--modprobe=/bin/sh"],
    ["-I", "INPUT", "-j", "DROP", "--modprobe", "/bin/sh"],
    ["-I", "INPUT", "-j", "DROP", "--modp=/bin/sh"],
    ["-I", "INPUT", "-j", "DROP", "--mo", "/bin/sh"],
    ["-M", "/bin/sh", "-I", "INPUT", "-j", "DROP"],
    ["-nvM/bin/sh", "-L"],
    ["-I", "INPUT", "-m", "../../tmp/libxt_evil", "-j", "DROP"],
    ["-I", "INPUT", "-j", "/tmp/x"],
  ];
  for (const args of refused)
    it(args.join(" "), () => expect(iptablesProblem(args)?.message).toMatch(/may not/));

  const allowed = [
    ["-I", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"],
    ["-t", "nat", "-A", "POSTROUTING", "-jMASQUERADE"],
    ["-I", "INPUT", "-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", "DROP"],
    ["-w", "-nvL", "INPUT"],
  ];
  for (const args of allowed)
    it(`allows ${args.join(" ")}`, () => expect(iptablesProblem(args)).toBeUndefined());

  it("in a file: file, line and key of the offending element", () => {
    const file = join(here, "../fixtures/bad/iptables-modprobe.yaml");
    let problems: ScenarioError["problems"] = [];
    try {
      loadScenario(file, facts);
    } catch (err) {
      problems = (err as ScenarioError).problems;
    }
    expect(problems).toEqual([
      expect.objectContaining({ file, line: 11, key: "faults.0.iptables.6" }),
    ]);
  });

  it("in a variant's set as well", () => {
    const text = `name: v
summary: a variant that adds --modprobe
networks: [wan]
nodes:
  client: { networks: [wan] }
  server: { networks: [wan], app: { listen: 8080 } }
faults:
  - { at: 0s, target: server, iptables: ["-I", "INPUT", "-j", "DROP"] }
traffic:
  - { from: client, to: "server:8080", connections: 1 }
expect:
  clients: { connected: 1 }
variants:
  sneaky:
    set: { faults.0.iptables: ["-I", "INPUT", "-j", "DROP", "-M", "/bin/sh"] }
`;
    expect(() => loadScenario("v.yaml", facts, text)).toThrow(/v\.yaml:15:.*modprobe/);
  });
});
