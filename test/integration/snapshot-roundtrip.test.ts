/**
 * From a host to a scenario and back, on the real kernel: inside a node of a running topology
 * (netns runtime) a never-accepting app with listen(64) under somaxconn 16 overflows; `tcprepro
 * snapshot` runs inside the node (ip netns exec) before and during the overflow; `diagnose`
 * names accept-queue-overflow with somaxconn capping the backlog; `scenario new --from` writes a
 * scenario on those numbers; `run` reproduces the overflow with them and the mitigation passes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectArgv, serveArgv } from "../../src/agent/protocol.js";
import type { HostDiagnosis } from "../../src/diagnosis/index.js";
import { parseProcNetCounters } from "../../src/evidence/proc.js";
import { NetnsRuntime } from "../../src/runtime/netns/netns-runtime.js";
import type { StartedNode } from "../../src/runtime/runtime.js";
import { readSnapshot } from "../../src/snapshot/snapshot.js";
import { waitFor } from "../../src/util/time.js";
import { cli, ROOT } from "./helpers.js";

const SOMAXCONN = 16;

const dirs: string[] = [];
/** A scratch directory, removed after the file's tests. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcprepro-snapshot-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const BACKLOG = 64;

/** `tcprepro snapshot -o FILE` run inside the node's network namespace. */
/** A netns node sees the host's files read-only (its /tmp is its own): the snapshot comes out on stdout. */
async function snapshotIn(node: StartedNode, file: string): Promise<void> {
  const { stdout } = await node.exec(
    [process.execPath, join(ROOT, "bin/tcprepro.js"), "snapshot"],
    60_000,
  );
  writeFileSync(file, stdout);
}

describe.skipIf(process.getuid?.() !== 0)("snapshot → diagnose → scenario new → run", () => {
  const runtime = new NetnsRuntime();
  beforeAll(async () => {
    await runtime.prepare(() => undefined);
  });

  it("reproduces what a snapshot saw, on its numbers, and the generated mitigation passes", async () => {
    const dir = scratch();
    const [before, after, generated, report] = [
      "before.json",
      "after.json",
      "gen.yaml",
      "r.json",
    ].map((f) => join(dir, f)) as [string, string, string, string];

    const topo = await runtime.up({
      runId: `sr${process.pid}`,
      networks: [{ name: "wan" }],
      nodes: [
        { name: "client", networks: ["wan"], sysctls: {} },
        { name: "server", networks: ["wan"], sysctls: { "net.core.somaxconn": String(SOMAXCONN) } },
      ],
    });
    try {
      const server = topo.nodes.get("server")!;
      const client = topo.nodes.get("client")!;
      const app = await server.spawn(
        serveArgv({
          port: 8080,
          backlog: BACKLOG,
          accept: "never",
          reply: false,
          closeFirst: false,
          resetOnClose: false,
        }),
      );
      await new Promise<void>((resolve, reject) => {
        app.onLine((l) => (l.includes('"listening"') ? resolve() : undefined));
        void app.exited.then((c) => reject(new Error(`serve exited ${c}: ${app.stderr()}`)));
      });
      await snapshotIn(server, before);
      const traffic = await client.spawn(
        connectArgv({
          host: server.addresses.wan!,
          port: 8080,
          connections: 60,
          concurrency: 60,
          rate: 0,
          connectTimeoutMs: 3_000,
          payloadBytes: 0,
          expectReply: false,
          replyTimeoutMs: 1_000,
          holdMs: 0,
          close: "client",
          maxMs: 10_000,
        }),
      );
      // Snapshot while it overflows: the queue is full and SYNs are being dropped.
      await waitFor(
        async () => {
          const c = parseProcNetCounters((await server.readProcNet("netstat")) ?? "");
          return (c["TcpExtListenOverflows"] ?? 0) > 0 ? true : undefined;
        },
        10_000,
        "the server's accept queue overflowing",
      );
      await snapshotIn(server, after);
      await traffic.exited;
    } finally {
      await topo.down();
    }

    const snap = readSnapshot(readFileSync(after, "utf8"), after);
    expect(snap.sysctls["net.core.somaxconn"]).toBe(SOMAXCONN);
    const listener = snap.listen.find((l) => l.port === 8080)!;
    expect(snap.source.listenLimits).toBe("ss");
    expect(listener.sendQ, "listen(64) capped by somaxconn 16").toBe(SOMAXCONN);
    expect(listener.recvQ).toBe(SOMAXCONN + 1);

    const diag = await cli(["diagnose", "--before", before, "--after", after, "--json"]);
    expect(diag.code, diag.stderr).toBe(0);
    const d = JSON.parse(diag.stdout) as HostDiagnosis;
    const overflow = d.causes.find((c) => c.cause === "accept-queue-overflow")!;
    expect(overflow, diag.stdout).toBeDefined();
    expect(overflow.numbers["TcpExtListenOverflows"]).toBeGreaterThan(0);
    expect(overflow.because).toContain("net.core.somaxconn (16)");
    expect(d.whatToTry[0]).toMatchObject({
      cause: "accept-queue-overflow",
      scenario: "scenarios/accept-queue-overflow.yaml",
    });

    const made = await cli(["scenario", "new", "--from", after, "-o", generated]);
    expect(made.code, made.stderr).toBe(0);
    const text = readFileSync(generated, "utf8");
    expect(text).toMatch(/net\.core\.somaxconn: 16 # from the snapshot/);
    expect(text).toMatch(/# the listener.s Send-Q in the snapshot[^]*\n\s+backlog: 16\n/);

    const run = await cli(["run", generated, "--runtime", "netns", "--json", report]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const r = JSON.parse(readFileSync(report, "utf8")) as {
      scenarios: {
        variants: {
          variant: string;
          verdict: string;
          causes: { cause: string }[];
          nodes: Record<string, { listen?: { sendQ: Record<string, number> } }>;
        }[];
      }[];
    };
    const [baseline, mitigated] = r.scenarios[0]!.variants;
    expect(baseline).toMatchObject({ variant: "baseline", verdict: "pass" });
    expect(baseline!.causes.map((c) => c.cause)).toContain("accept-queue-overflow");
    expect(baseline!.nodes["server"]!.listen!.sendQ["8080"]).toBe(SOMAXCONN);
    expect(mitigated).toMatchObject({ variant: "mitigated", verdict: "pass" });
    expect(mitigated!.causes.map((c) => c.cause)).toEqual(["none"]);
  });
});

describe("snapshot, diagnose, scenario new, run --set: bad input from the command line", () => {
  it("exits 2 with a clear message, and creates nothing", async () => {
    const dir = scratch();
    const snap = join(dir, "s.json");
    const made = await cli(["snapshot", "-o", snap]);
    expect(made.code, made.stderr).toBe(0);
    const text = readFileSync(snap, "utf8");
    const truncated = join(dir, "truncated.json");
    writeFileSync(truncated, text.slice(0, text.length / 3));
    const foreign = join(dir, "foreign.json");
    writeFileSync(foreign, '{"tool": "tcprepro", "scenarios": []}\n');
    const gen = join(dir, "gen.yaml");

    const cases: [string[], RegExp][] = [
      [["diagnose", truncated], /not valid JSON .*truncated/],
      [["snapshot", "--proc", "/nonexistent", "-o", gen], /\/nonexistent.*no such directory/],
      [["diagnose", "--before", snap, "--after", foreign], /--after: not a tcprepro snapshot/],
      [["diagnose", "--before", snap], /give --before FILE --after FILE, or one SNAPSHOT/],
      [["diagnose", "--live", "forever"], /--live "forever": a duration/],
      [["scenario", "new", "--from", truncated, "-o", gen], /not valid JSON/],
      [
        ["scenario", "new", "--cause", "gremlins", "-o", gen],
        /known causes: accept-queue-overflow/,
      ],
      [
        ["run", "scenarios/accept-queue-overflow.yaml", "--set", "nodes.server.app.backlog=lots"],
        /--set nodes\.server\.app\.backlog=lots: .*expected number/,
      ],
      [
        ["run", "scenarios/accept-queue-overflow.yaml", "--set", "nodes.web.app.backlog=1"],
        /has no node "web"/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(existsSync(gen)).toBe(false);
  });

  it("diagnose --live takes both snapshots itself, with progress on stderr", async () => {
    const r = await cli(["diagnose", "--live", "1s", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /snapshot 1 taken; sampling every 1s; the second in 1s\n[^]*snapshot 2 taken/,
    );
    const d = JSON.parse(r.stdout) as HostDiagnosis;
    expect(d.causes.length).toBeGreaterThan(0);
    const unchecked = d.unchecked.join("\n");
    expect(unchecked).not.toMatch(/one snapshot/);
    // It read this host's sockets and listeners itself, and names it by its name.
    expect(unchecked).not.toMatch(/socket states: no|listen queue: no/);
    expect(d.causes.map((c) => c.node)).toEqual(d.causes.map(() => hostname()));
  });
});
