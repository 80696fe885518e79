/**
 * From a production host to its failure, per cause: a "host" (a network namespace of a topology
 * this test makes, with its own sysctls and a real server no one here wrote the kernel side of:
 * a python3 socket server on a non-default port and backlog) is driven into a failure; `tcprepro
 * snapshot` runs inside it before and after; `diagnose` must name the host's cause;
 * `scenario new --from` writes a scenario on the host's numbers; `run` must pass it with that
 * cause named, and its mitigated variant healthy. Traffic is bounded and stays between the
 * namespaces of the test's own topology. The generated scenarios run on each runtime of
 * TCPREPRO_ROUNDTRIP_RUNTIMES (default netns,docker).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectArgv } from "../../src/agent/protocol.js";
import type { HostDiagnosis } from "../../src/diagnosis/index.js";
import { parseProcNetCounters } from "../../src/evidence/proc.js";
import { NetnsRuntime } from "../../src/runtime/netns/netns-runtime.js";
import type { StartedNode, StartedTopology } from "../../src/runtime/runtime.js";
import { readSnapshot, type Snapshot } from "../../src/snapshot/snapshot.js";
import { waitFor } from "../../src/util/time.js";
import { cli, ROOT } from "./helpers.js";

const RUNTIMES = (process.env["TCPREPRO_ROUNDTRIP_RUNTIMES"] ?? "netns,docker").split(",");

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcprepro-host-"));
  dirs.push(dir);
  return dir;
}

/**
 * A socket server of the host's own, bounded to 120 s: `never-accept` (an app that stopped
 * accepting), `hold` (accepts and keeps every connection, never closing: CLOSE_WAIT once the
 * peer closes), `close-first` (answers and closes: the host holds TIME_WAIT), `drain` (reads to
 * EOF and closes: the peer holds TIME_WAIT).
 */
const SERVER_PY = `
import socket, sys, time
port, backlog, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(backlog)
print("listening", flush=True)
held = []
end = time.time() + 120
s.settimeout(0.5)
while time.time() < end:
    if mode == "never-accept":
        time.sleep(0.2)
        continue
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    if mode == "hold":
        held.append(c)
        continue
    c.settimeout(2)
    try:
        if mode == "close-first":
            c.recv(64)
            c.sendall(b"ok\\n")
        else:
            while c.recv(64):
                pass
    except OSError:
        pass
    c.close()
`;

async function pyServer(node: StartedNode, port: number, backlog: number, mode: string) {
  const app = await node.spawn(["python3", "-c", SERVER_PY, String(port), String(backlog), mode]);
  await new Promise<void>((resolve, reject) => {
    app.onLine((l) => (l.includes("listening") ? resolve() : undefined));
    void app.exited.then((c) => reject(new Error(`server exited ${c}: ${app.stderr()}`)));
  });
  return app;
}

interface Clients {
  port: number;
  connections: number;
  concurrency: number;
  close?: "client" | "server";
  payload?: number;
  expectReply?: boolean;
  connectTimeoutMs?: number;
}

async function connect(from: StartedNode, to: StartedNode, c: Clients) {
  const p = await from.spawn(
    connectArgv({
      host: to.addresses["wan"]!,
      port: c.port,
      connections: c.connections,
      concurrency: c.concurrency,
      rate: 0,
      connectTimeoutMs: c.connectTimeoutMs ?? 3_000,
      payloadBytes: c.payload ?? 0,
      expectReply: c.expectReply ?? false,
      replyTimeoutMs: 2_000,
      holdMs: 0,
      close: c.close ?? "client",
      maxMs: 20_000,
    }),
  );
  return p;
}

async function counters(node: StartedNode): Promise<Record<string, number>> {
  return parseProcNetCounters(
    ((await node.readProcNet("netstat")) ?? "") + ((await node.readProcNet("snmp")) ?? ""),
  );
}

/** A netns node sees the host's files read-only (its /tmp is its own): the snapshot comes out on stdout. */
async function snapshotIn(node: StartedNode, file: string): Promise<Snapshot> {
  const { stdout } = await node.exec(
    [process.execPath, join(ROOT, "bin/tcprepro.js"), "snapshot"],
    60_000,
  );
  writeFileSync(file, stdout);
  return readSnapshot(stdout, file);
}

interface RoundTrip {
  diagnosis: HostDiagnosis;
  snapshot: Snapshot;
  scenario: string;
  notes: string;
  runs: Record<string, RunVariant[]>;
}

interface RunVariant {
  variant: string;
  verdict: string;
  causes: { cause: string }[];
  clients: { attempts: number; outcomes: Record<string, number> };
  nodes: Record<string, { counters: Record<string, number> }>;
}

/**
 * Host → snapshot (before, after) → diagnose → scenario new --from → run on each runtime.
 * `drive` puts the host in its state; the snapshots are taken in `hostNode`.
 */
async function roundTrip(
  runtime: NetnsRuntime,
  spec: {
    id: string;
    host: Record<string, string>;
    peer?: Record<string, string>;
    hostNode: "host" | "peer";
    drive: (host: StartedNode, peer: StartedNode, snap: () => Promise<void>) => Promise<void>;
  },
): Promise<RoundTrip> {
  const dir = scratch();
  const [before, after, generated] = ["before.json", "after.json", "gen.yaml"].map((f) =>
    join(dir, f),
  ) as [string, string, string];
  const topo: StartedTopology = await runtime.up({
    runId: `h${spec.id}${process.pid}`.slice(0, 12),
    networks: [{ name: "wan" }],
    nodes: [
      { name: "host", networks: ["wan"], sysctls: spec.host },
      { name: "peer", networks: ["wan"], sysctls: spec.peer ?? {} },
    ],
  });
  let snapshot: Snapshot;
  try {
    const host = topo.nodes.get("host")!;
    const peer = topo.nodes.get("peer")!;
    const target = spec.hostNode === "host" ? host : peer;
    await snapshotIn(target, before);
    await spec.drive(host, peer, async () => {
      snapshot = await snapshotIn(target, after);
    });
  } finally {
    await topo.down();
  }
  const diag = await cli(["diagnose", "--before", before, "--after", after, "--json"]);
  expect(diag.code, diag.stderr).toBe(0);
  const made = await cli(["scenario", "new", "--from", after, "-o", generated]);
  expect(made.code, made.stderr).toBe(0);
  const runs: Record<string, RunVariant[]> = {};
  for (const rt of RUNTIMES) {
    const report = join(dir, `r-${rt}.json`);
    const run = await cli(["run", generated, "--runtime", rt, "--json", report]);
    expect(run.code, `${rt}: ${run.stdout}${run.stderr}\n${readFileSync(generated, "utf8")}`).toBe(
      0,
    );
    runs[rt] = (
      JSON.parse(readFileSync(report, "utf8")) as { scenarios: { variants: RunVariant[] }[] }
    ).scenarios[0]!.variants;
  }
  return {
    diagnosis: JSON.parse(diag.stdout) as HostDiagnosis,
    snapshot: snapshot!,
    scenario: readFileSync(generated, "utf8"),
    notes: made.stderr,
    runs,
  };
}

/** Every runtime's baseline passed naming `cause`, and its mitigated variant was healthy. */
function expectReproduced(r: RoundTrip, cause: string): void {
  for (const [rt, variants] of Object.entries(r.runs)) {
    const base = variants.find((v) => v.variant === "baseline")!;
    expect(base.verdict, rt).toBe("pass");
    expect(
      base.causes.map((c) => c.cause),
      rt,
    ).toContain(cause);
    const fixed = variants.find((v) => v.variant === "mitigated")!;
    expect(fixed.verdict, rt).toBe("pass");
  }
}

const causes = (d: HostDiagnosis) => d.causes.map((c) => c.cause);
/** For the report: one line of numbers per round trip, on stderr. */
function report(name: string, r: RoundTrip, extra: Record<string, unknown>): void {
  const runs = Object.entries(r.runs).map(([rt, vs]) => {
    const b = vs.find((v) => v.variant === "baseline")!;
    return `${rt}: ${JSON.stringify(b.clients.outcomes)} ${b.causes.map((c) => c.cause).join(",")}`;
  });
  process.stderr.write(
    `ROUNDTRIP ${name}: diagnose ${causes(r.diagnosis).join(",")}; ${JSON.stringify(extra)}; ${runs.join("; ")}\n`,
  );
}

describe.skipIf(process.getuid?.() !== 0)("production host → snapshot → scenario → run", () => {
  const runtime = new NetnsRuntime();
  beforeAll(async () => {
    await runtime.prepare(() => undefined);
  });

  it("accept queue full on a non-default port: somaxconn 64, listen(16), an app that stopped accepting", async () => {
    const r = await roundTrip(runtime, {
      id: "aq",
      host: { "net.core.somaxconn": "64" },
      hostNode: "host",
      drive: async (host, peer, snap) => {
        const app = await pyServer(host, 9090, 16, "never-accept");
        const load = await connect(peer, host, { port: 9090, connections: 60, concurrency: 60 });
        await waitFor(
          async () => ((await counters(host))["TcpExtListenOverflows"] ?? 0) > 0 || undefined,
          10_000,
          "the host's accept queue overflowing",
        );
        await snap();
        await load.exited;
        await app.signal("SIGKILL");
      },
    });
    expect(causes(r.diagnosis)).toContain("accept-queue-overflow");
    expect(r.scenario).toMatch(/listen: 9090/);
    expect(r.scenario).toMatch(/backlog: 16\n/);
    expect(r.scenario).not.toMatch(/server:8080/);
    expectReproduced(r, "accept-queue-overflow");
    report("accept-queue", r, { port: 9090, sendQ: 16 });
  });

  for (const [path, backlog, maxSyn] of [
    ["last-quarter", 128, 64],
    ["full-queue", 8, 64],
  ] as const) {
    it(`SYN queue, syncookies off, the ${path} drop path: listen(${backlog}), tcp_max_syn_backlog ${maxSyn}`, async () => {
      const r = await roundTrip(runtime, {
        id: `sq${backlog}`,
        host: {
          "net.ipv4.tcp_syncookies": "0",
          "net.ipv4.tcp_max_syn_backlog": String(maxSyn),
        },
        hostNode: "host",
        drive: async (host, peer, snap) => {
          const app = await pyServer(host, 7070, backlog, "hold");
          // The flooder's own kernel would reset every SYN-ACK and free the host's slots.
          await peer.exec(
            ["iptables", "-I", "OUTPUT", "-p", "tcp", "-d", host.addresses["wan"]!].concat([
              "--tcp-flags",
              "RST",
              "RST",
              "-j",
              "DROP",
            ]),
          );
          await peer.exec(
            [
              "sh",
              "-c",
              `hping3 -q -S -p 7070 -c 3000 --faster ${host.addresses["wan"]} >/dev/null 2>&1; true`,
            ],
            30_000,
          );
          await snap();
          await app.signal("SIGKILL");
        },
      });
      const d = r.diagnosis;
      expect(causes(d)).toContain("syn-queue-overflow");
      const reqQFull = r.snapshot.counters["TcpExtTCPReqQFullDrop"] ?? 0;
      if (path === "full-queue") {
        expect(reqQFull).toBeGreaterThan(0);
        expect(r.scenario).toMatch(/TcpExtTCPReqQFullDrop: "> 0"/);
      } else {
        expect(reqQFull).toBe(0);
        expect(r.scenario).toMatch(/TcpExtTCPReqQFullDrop: "== 0"/);
      }
      expect(r.scenario).toMatch(new RegExp(`tcp_max_syn_backlog: ${maxSyn} # from the snapshot`));
      expect(r.scenario).toMatch(/listen: 7070/);
      expect(r.scenario).toMatch(new RegExp(`backlog: ${backlog}\\n`));
      expectReproduced(r, "syn-queue-overflow");
      for (const [rt, vs] of Object.entries(r.runs)) {
        const c = vs.find((v) => v.variant === "baseline")!.nodes["server"]!.counters;
        expect(c["TcpExtListenDrops"], rt).toBeGreaterThan(0);
        if (path === "full-queue") expect(c["TcpExtTCPReqQFullDrop"], rt).toBeGreaterThan(0);
        else expect(c["TcpExtTCPReqQFullDrop"] ?? 0, rt).toBe(0);
      }
      report(`syn-queue ${path}`, r, {
        runListenDrops: Object.values(r.runs).map(
          (vs) =>
            vs.find((v) => v.variant === "baseline")!.nodes["server"]!.counters[
              "TcpExtListenDrops"
            ],
        ),
        listenDrops: r.snapshot.counters["TcpExtListenDrops"],
        reqQFullDrop: reqQFull,
        synRecv: r.snapshot.states["SYN_RECV"],
      });
    });
  }

  it("port exhaustion on a client host: ip_local_port_range of 16 ports, tcp_tw_reuse 0", async () => {
    const r = await roundTrip(runtime, {
      id: "pe",
      host: { "net.ipv4.ip_local_port_range": "41000 41015", "net.ipv4.tcp_tw_reuse": "0" },
      hostNode: "host",
      drive: async (host, peer, snap) => {
        const app = await pyServer(peer, 6060, 128, "drain");
        const load = await connect(host, peer, { port: 6060, connections: 24, concurrency: 1 });
        await load.exited;
        await snap();
        await app.signal("SIGKILL");
      },
    });
    expect(r.snapshot.states["TIME_WAIT"]).toBe(16);
    expect(causes(r.diagnosis)).toContain("port-exhaustion");
    expect(r.scenario).toMatch(/ip_local_port_range: 41000 41015 # from the snapshot/);
    expect(r.notes).toMatch(/not carried over: which destinations/);
    expectReproduced(r, "port-exhaustion");
    report("port-exhaustion", r, { timeWait: r.snapshot.states["TIME_WAIT"], ports: 16 });
  });

  it("TIME_WAIT buckets: tcp_max_tw_buckets 32, a server that closes first", async () => {
    const r = await roundTrip(runtime, {
      id: "tw",
      host: { "net.ipv4.tcp_max_tw_buckets": "32" },
      hostNode: "host",
      drive: async (host, peer, snap) => {
        const app = await pyServer(host, 5050, 128, "close-first");
        const load = await connect(peer, host, {
          port: 5050,
          connections: 120,
          concurrency: 4,
          payload: 16,
          expectReply: true,
          close: "server",
        });
        await load.exited;
        await snap();
        await app.signal("SIGKILL");
      },
    });
    expect(r.snapshot.counters["TcpExtTCPTimeWaitOverflow"]).toBeGreaterThan(0);
    expect(causes(r.diagnosis)).toContain("tw-bucket-overflow");
    expect(r.scenario).toMatch(/tcp_max_tw_buckets: 32 # from the snapshot/);
    expect(r.scenario).toMatch(/listen: 5050/);
    expectReproduced(r, "tw-bucket-overflow");
    report("tw-buckets", r, {
      overflow: r.snapshot.counters["TcpExtTCPTimeWaitOverflow"],
      timeWait: r.snapshot.states["TIME_WAIT"],
    });
  });

  it("a CLOSE_WAIT leak: an app that never closes what its peers closed", async () => {
    const r = await roundTrip(runtime, {
      id: "cw",
      host: {},
      hostNode: "host",
      drive: async (host, peer, snap) => {
        const app = await pyServer(host, 4040, 128, "hold");
        const load = await connect(peer, host, { port: 4040, connections: 40, concurrency: 10 });
        await load.exited;
        await waitFor(
          async () => {
            const t = ((await host.readProcNet("tcp")) ?? "").split("\n");
            return t.filter((l) => / 08 /.test(l)).length >= 40 || undefined;
          },
          10_000,
          "40 sockets in CLOSE_WAIT on the host",
        );
        await snap();
        await app.signal("SIGKILL");
      },
    });
    expect(r.snapshot.states["CLOSE_WAIT"]).toBe(40);
    expect(causes(r.diagnosis)).toContain("close-wait-leak");
    expect(r.scenario).toMatch(/listen: 4040/);
    expectReproduced(r, "close-wait-leak");
    report("close-wait", r, { closeWait: r.snapshot.states["CLOSE_WAIT"] });
  });
});
