/** scenario new: the catalog's version of every cause, a snapshot's version, and bad causes. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadScenario } from "../../src/scenario/load.js";
import { knownCauses, newScenario } from "../../src/scenario/new.js";
import type { KernelFacts } from "../../src/scenario/semantics.js";
import type { Snapshot } from "../../src/snapshot/snapshot.js";
import { UsageError } from "../../src/util/errors.js";
import { snapshotOf } from "./builders.js";

const facts: KernelFacts = { sysctlExists: () => true };

function snapshot(over: Partial<Snapshot> = {}): { value: Snapshot; text: string; file: string } {
  const value = snapshotOf({
    sysctls: {
      "net.core.somaxconn": 128,
      "net.ipv4.tcp_syn_retries": 6,
      "net.ipv4.tcp_max_syn_backlog": 512,
    },
    counters: { TcpExtListenOverflows: 0, TcpExtListenDrops: 0, TcpActiveOpens: 1 },
    listen: [
      { family: "ipv4", address: "0.0.0.0", port: 22, recvQ: 0, sendQ: 128 },
      { family: "ipv4", address: "10.0.0.5", port: 9000, recvQ: 129, sendQ: 128 },
    ],
    states: { LISTEN: 2 },
    ...over,
  });
  return { value, text: JSON.stringify(value), file: "web1.json" };
}

describe("scenario new", () => {
  it("--cause alone: the catalog's scenario for every known cause, valid", () => {
    for (const cause of knownCauses()) {
      const made = newScenario({ cause });
      expect(made.text.split("\n")[0]).toMatch(/^# yaml-language-server: \$schema=\//);
      expect(made.text).toContain(`--cause ${cause}`);
      expect(() => loadScenario(`${cause}.yaml`, facts, made.text), cause).not.toThrow();
    }
  });

  it("--from: the host's sysctls and the full listener's limit, with where they came from", () => {
    const made = newScenario({ snapshot: snapshot() });
    expect(made.cause).toBe("accept-queue-overflow");
    const loaded = loadScenario("gen.yaml", facts, made.text);
    const [baseline, mitigated] = loaded.variants;
    const server = baseline!.scenario.nodes["server"]!;
    expect(server.app).toMatchObject({ listen: 9000, backlog: 128 });
    expect(server.sysctls).toMatchObject({
      "net.core.somaxconn": 128,
      "net.ipv4.tcp_max_syn_backlog": 512,
    });
    expect(baseline!.scenario.nodes["client"]!.sysctls["net.ipv4.tcp_syn_retries"]).toBe(6);
    // A first wave that fills the queue of 128 (it holds 129), then one that meets it full.
    const replicas = baseline!.scenario.nodes["client"]!.replicas ?? 1;
    const [fill, burst] = baseline!.scenario.traffic.map((t) => t.connections * replicas);
    expect(fill).toBeGreaterThanOrEqual(129);
    expect(burst).toBeGreaterThan(0);
    const attempts = fill! + burst!;
    expect(baseline!.scenario.expect.cause).toBe("accept-queue-overflow");
    expect(mitigated!.name).toBe("mitigated");
    expect(mitigated!.scenario.nodes["server"]!.app!.backlog).toBeGreaterThan(attempts);
    expect(mitigated!.scenario.nodes["server"]!.sysctls["net.core.somaxconn"]).toBeGreaterThan(
      attempts,
    );
    expect(mitigated!.scenario.expect.cause).toBe("none");
    expect(made.text).toMatch(/net\.core\.somaxconn: 128 # from the snapshot \(web1\)/);
    expect(made.text).toMatch(/equal to\s+# somaxconn/);
    expect(made.text).toMatch(/Host values come from the snapshot of web1/);
    expect((parse(made.text) as { name: string }).name).toBe("repro-accept-queue-overflow");
  });

  it("--from with --cause: the catalog's own sysctls stay, the host's value noted", () => {
    const s = snapshot({
      sysctls: { "net.ipv4.tcp_syn_retries": 6, "net.ipv4.tcp_tw_reuse": 2 },
    });
    const made = newScenario({ snapshot: s, cause: "port-exhaustion" });
    expect(made.text).toMatch(
      /tcp_tw_reuse: 0 # the catalog's value.*the host has 2|tcp_tw_reuse: 0\n/s,
    );
    expect(() => loadScenario("gen.yaml", facts, made.text)).not.toThrow();
  });

  it("an unknown cause, or a snapshot with none: a usage error listing the known causes", () => {
    expect(() => newScenario({ cause: "gremlins" })).toThrow(UsageError);
    expect(() => newScenario({ cause: "gremlins" })).toThrow(
      /known causes: accept-queue-overflow, /,
    );
    const quiet = snapshot({ listen: [] });
    expect(() => newScenario({ snapshot: quiet })).toThrow(
      /names no cause with a catalog scenario.*--cause NAME/,
    );
    expect(() => newScenario({})).toThrow(UsageError);
  });
});
