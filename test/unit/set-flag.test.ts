/** run --set: parsing the flag, the variant it adds, and bad paths and types. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadScenario } from "../../src/scenario/load.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";
import { collectSet, setVariantName, withSetVariant } from "../../src/scenario/set-flag.js";
import { exitCodeFor, UsageError } from "../../src/util/errors.js";

const facts: KernelFacts = { sysctlExists: (n) => !n.includes("frobnicate") };
const dir = mkdtempSync(join(tmpdir(), "tcprepro-set-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "s.yaml");
writeFileSync(
  file,
  `name: s
summary: a scenario
networks: [wan]
nodes:
  client: { networks: [wan] }
  server:
    networks: [wan]
    app: { listen: 8080, backlog: 8, accept: never }
traffic:
  - { from: client, to: "server:8080", connections: 20, concurrency: 20, connectTimeout: 1s }
expect: { cause: accept-queue-overflow }
variants:
  mitigated:
    set: { nodes.server.app.backlog: 1024 }
    expect: { cause: none }
`,
);
const loaded = loadScenario(file, facts);
const sets = (...raw: string[]) =>
  raw.reduce((acc, r) => collectSet(r, acc), [] as ReturnType<typeof collectSet>);

describe("--set PATH=VALUE", () => {
  it("reads the value as YAML: numbers, booleans, strings", () => {
    expect(
      sets(
        "nodes.server.app.backlog=4096",
        "a.b=true",
        "nodes.client.sysctls.net.ipv4.ip_local_port_range=40000 40009",
      ),
    ).toEqual([
      { raw: "nodes.server.app.backlog=4096", path: "nodes.server.app.backlog", value: 4096 },
      { raw: "a.b=true", path: "a.b", value: true },
      {
        raw: "nodes.client.sysctls.net.ipv4.ip_local_port_range=40000 40009",
        path: "nodes.client.sysctls.net.ipv4.ip_local_port_range",
        value: "40000 40009",
      },
    ]);
    for (const bad of ["backlog", "=1", "a b=1"])
      expect(() => sets(bad), bad).toThrow(/expected PATH=VALUE/);
  });

  it("names the variant after the change: sysctls by their name", () => {
    expect(setVariantName(sets("nodes.server.sysctls.net.core.somaxconn=4096"))).toBe(
      "set:net.core.somaxconn=4096",
    );
    expect(
      setVariantName(
        sets("nodes.server.app.backlog=1024", "nodes.server.sysctls.net.core.somaxconn=4096"),
      ),
    ).toBe("set:server.app.backlog=1024,net.core.somaxconn=4096");
  });

  it("adds one variant beside the scenario's own, patched like set:, expected healthy", () => {
    const s = withSetVariant(
      loaded,
      sets("nodes.server.sysctls.net.core.somaxconn=4096", "nodes.server.app.backlog=2048"),
      facts,
    );
    expect(s.variants.map((v) => v.name)).toEqual([
      "baseline",
      "mitigated",
      "set:net.core.somaxconn=4096,server.app.backlog=2048",
    ]);
    const v = s.variants[2]!;
    expect(v.scenario.nodes["server"]!.sysctls).toEqual({ "net.core.somaxconn": 4096 });
    expect(v.scenario.nodes["server"]!.app!.backlog).toBe(2048);
    expect(v.scenario.expect.cause).toBe("none");
    expect(v.expectSource).toEqual({ cause: "--set" });
    expect(withSetVariant(loaded, [], facts)).toBe(loaded);
  });

  it("a path that does not exist, a wrong type, an unknown sysctl: a usage error (exit 2)", () => {
    const cases: [string, RegExp][] = [
      ["nodes.db.app.backlog=1", /has no node "db" \(nodes: client, server\)/],
      ["nodes.server.app.backlogg=1", /nodes\.server\.app: Unrecognized key: "backlogg"/],
      ["nodes.server.app.backlog=many", /nodes\.server\.app\.backlog: .*expected number/],
      [
        "nodes.server.sysctls.net.core.frobnicate=1",
        /sysctl "net\.core\.frobnicate" does not exist/,
      ],
      ["nosuch=1", /\(top level\): Unrecognized key: "nosuch"/],
    ];
    for (const [raw, message] of cases) {
      let err: unknown;
      try {
        withSetVariant(loaded, sets(raw), facts);
      } catch (e) {
        err = e;
      }
      expect(err, raw).toBeInstanceOf(UsageError);
      expect(String(err), raw).toMatch(message);
      expect(String(err), raw).toContain(`--set ${raw}`);
      expect(exitCodeFor(err)).toBe(2);
    }
  });
});
