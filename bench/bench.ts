/**
 * `npm run bench`: measures what a run costs on this machine and writes BENCHMARKS.md and
 * bench/results.json. Everything it starts is labelled and removed; traffic stays inside the
 * topologies it builds.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { connectArgv, serveArgv } from "../src/agent/protocol.js";
import { snapshotAll, snapshotCounters } from "../src/evidence/collect.js";
import { connectDocker, DockerRuntime } from "../src/runtime/docker/docker-runtime.js";
import { NetnsRuntime } from "../src/runtime/netns/netns-runtime.js";
import { gatewayRules, planTopology } from "../src/run/plan.js";
import { loadScenario } from "../src/scenario/load.js";
import { hostKernelFacts } from "../src/runtime/shared/host-inventory.js";
import { NODE_LATEST } from "../src/runtime/docker/images.js";
import type { Runtime, TopologyPlan } from "../src/runtime/runtime.js";
import { freeSubnets } from "../src/runtime/subnets.js";
import type { RunReport } from "../src/verdict/result.js";
import { renderStart, startTimes, type StartTimes } from "./start.js";

const ITERATIONS = 5;
/**
 * The generator's nodes get the widest ephemeral range. With the default 32768-60999 a client
 * runs out after ~14,000 connections in TIME_WAIT: connect() prefers even ports, and once those
 * are all taken every connect() scans them first (measured: 10,600 attempts in the first second,
 * then ~200/s). That is the kernel's port-exhaustion limit, not the generator's.
 */
const WIDE_PORTS = { "net.ipv4.ip_local_port_range": "1024 65535" };
const GENERATOR_CONNECTIONS = 10_000;
const say = (m: string) => process.stderr.write(`· ${m}\n`);

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The standard topology is the one scenarios/accept-queue-overflow.yaml describes (two networks,
 * a SNAT gateway, two clients, a server): its plan and its gateway rules come from the same code
 * runs use. The generator's nodes get the wide port range on top.
 */
const STANDARD = loadScenario("scenarios/accept-queue-overflow.yaml", hostKernelFacts).variants[0]!
  .scenario;

function standardPlan(runId: string): TopologyPlan {
  const { plan } = planTopology(STANDARD, runId);
  for (const node of plan.nodes) {
    if (node.name === "gw" || node.name === "client.1") Object.assign(node.sysctls, WIDE_PORTS);
  }
  return plan;
}

/** The same topology by a sequence of plain docker CLI commands, as one would script it. */
async function cliUpDown(tag: string, image: string): Promise<UpDown> {
  const used = JSON.parse(
    await must([
      "docker",
      "network",
      "inspect",
      ...(await must(["docker", "network", "ls", "-q"])).trim().split("\n"),
    ]),
  ) as Array<{ IPAM: { Config: Array<{ Subnet?: string }> | null } }>;
  const [lan, wan] = freeSubnets(
    "198.18.0.0/15",
    used.flatMap((n) => (n.IPAM.Config ?? []).map((c) => c.Subnet ?? "")).filter(Boolean),
  );
  const label = ["--label", `tcprepro.run=${tag}`];
  const t0 = performance.now();
  await must([
    "docker",
    "network",
    "create",
    "--internal",
    "--subnet",
    lan!,
    ...label,
    `${tag}-lan`,
  ]);
  await must([
    "docker",
    "network",
    "create",
    "--internal",
    "--subnet",
    wan!,
    ...label,
    `${tag}-wan`,
  ]);
  const common = [
    "docker",
    "run",
    "-d",
    "--cap-add",
    "NET_ADMIN",
    "--cap-add",
    "NET_RAW",
    ...label,
  ];
  await must([
    ...common,
    "--name",
    `${tag}-gw`,
    "--network",
    `${tag}-lan`,
    "--sysctl",
    "net.ipv4.ip_forward=1",
    image,
    "/opt/tcprepro/tcprepro-agent",
    "hold",
  ]);
  await must(["docker", "network", "connect", `${tag}-wan`, `${tag}-gw`]);
  for (const c of ["client-1", "client-2"])
    await must([
      ...common,
      "--name",
      `${tag}-${c}`,
      "--network",
      `${tag}-lan`,
      image,
      "/opt/tcprepro/tcprepro-agent",
      "hold",
    ]);
  await must([
    ...common,
    "--name",
    `${tag}-server`,
    "--network",
    `${tag}-wan`,
    image,
    "/opt/tcprepro/tcprepro-agent",
    "hold",
  ]);
  const upMs = performance.now() - t0;
  const t1 = performance.now();
  await must([
    "docker",
    "rm",
    "-f",
    `${tag}-gw`,
    `${tag}-client-1`,
    `${tag}-client-2`,
    `${tag}-server`,
  ]);
  await must(["docker", "network", "rm", `${tag}-lan`, `${tag}-wan`]);
  return { upMs, downMs: performance.now() - t1 };
}

interface UpDown {
  upMs: number;
  downMs: number;
}

/** One standard topology up and down on `runtime`, timed. */
async function upDown(runtime: Runtime, runId: string): Promise<UpDown> {
  const t0 = performance.now();
  const topo = await runtime.up(standardPlan(runId));
  const upMs = performance.now() - t0;
  const t1 = performance.now();
  await topo.down();
  return { upMs, downMs: performance.now() - t1 };
}

const medians = (xs: UpDown[]): UpDown => ({
  upMs: round(median(xs.map((x) => x.upMs))),
  downMs: round(median(xs.map((x) => x.downMs))),
});

/** Section 1: the standard topology on the Docker runtime against the plain CLI, alternated. */
async function topologyVsCli(
  runtime: DockerRuntime,
  engineWired: DockerRuntime,
): Promise<Record<string, unknown>> {
  say("1. standard topology up/down: tcprepro (veth-wired, engine-wired) vs plain docker CLI");
  const ours: UpDown[] = [];
  const engine: UpDown[] = [];
  const cli: UpDown[] = [];
  const load: number[] = [loadavg()[0]!];
  for (let i = 0; i < ITERATIONS; i++) {
    // Alternated, so that all three see the same engine and machine state.
    ours.push(await upDown(runtime, `bench${process.pid}x${i}`));
    engine.push(await upDown(engineWired, `bench${process.pid}e${i}`));
    cli.push(await cliUpDown(`tcprepro-benchcli${process.pid}x${i}`, NODE_LATEST));
  }
  load.push(loadavg()[0]!);
  const total = (x: UpDown) => x.upMs + x.downMs;
  const topology = {
    iterations: ITERATIONS,
    tcprepro: medians(ours),
    engineWired: medians(engine),
    dockerCli: medians(cli),
    ratio: 0,
    engineWiredRatio: round(total(medians(engine)) / total(medians(cli)), 2),
    date: new Date().toISOString(),
    // The machine is shared: the 1-minute load average before and after, to read the figures by.
    load: load.map((l) => round(l)),
    wiring: runtime.wiring,
  };
  topology.ratio = round(
    (topology.tcprepro.upMs + topology.tcprepro.downMs) /
      (topology.dockerCli.upMs + topology.dockerCli.downMs),
    2,
  );
  return topology;
}

/** Section 1b: the same topology on the netns runtime (no engine). */
async function netnsTopology(): Promise<UpDown> {
  say("1b. the same topology on the netns runtime (no engine)");
  const netns = new NetnsRuntime();
  await netns.prepare(say);
  const ns: UpDown[] = [];
  for (let i = 0; i < ITERATIONS; i++) ns.push(await upDown(netns, `benchns${process.pid}x${i}`));
  return medians(ns);
}

/** Writes bench/results.json and BENCHMARKS.md. */
function write(results: Record<string, unknown>): void {
  writeFileSync("bench/results.json", JSON.stringify(results, null, 2) + "\n");
  // Sections 5 on (bench/vm.ts) are kept: a partial run (--start, --topology) must not drop them.
  const md = existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "";
  const vm = md.indexOf("\n## 5. ");
  writeFileSync("BENCHMARKS.md", render(results) + (vm >= 0 ? md.slice(vm) : ""));
  process.stdout.write(render(results));
}

async function main(): Promise<void> {
  say("0. start: tcprepro --version, built vs through tsx");
  const start = startTimes();
  if (process.argv.includes("--start")) {
    const previous = JSON.parse(readFileSync("bench/results.json", "utf8")) as Record<
      string,
      unknown
    >;
    write({ ...previous, start });
    return;
  }
  const docker = await connectDocker();
  const runtime = new DockerRuntime(docker);
  await runtime.prepare(say);
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, kernel: release(), date: new Date().toISOString() },
    start,
  };
  const engineWired = new DockerRuntime(docker, { wiring: "engine" });
  await engineWired.prepare(say);
  results.topology = await topologyVsCli(runtime, engineWired);
  results.netnsTopology = await netnsTopology();
  if (process.argv.includes("--topology")) {
    // Section 1 only (a minute, not the catalog's): the other sections and their date are kept.
    const previous = JSON.parse(readFileSync("bench/results.json", "utf8")) as Record<
      string,
      unknown
    >;
    write({ ...previous, topology: results.topology, netnsTopology: results.netnsTopology });
    return;
  }
  say("2. counter snapshots, 3. traffic generator");
  const topo = await runtime.up(standardPlan(`bench${process.pid}s`));
  try {
    const server = topo.nodes.get("server")!;
    const N = 200;
    let t = performance.now();
    for (let i = 0; i < N; i++) await snapshotCounters(server);
    const perNodeMs = (performance.now() - t) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) await snapshotAll(topo.nodes.values());
    const perTopologyMs = (performance.now() - t) / N;
    t = performance.now();
    for (let i = 0; i < 20; i++) await server.exec(["cat", "/proc/net/netstat", "/proc/net/snmp"]);
    const execMs = (performance.now() - t) / 20;
    results.snapshot = {
      perNodeMs: round(perNodeMs, 2),
      perTopologyMs: round(perTopologyMs, 2),
      nodes: topo.nodes.size,
      forComparisonDockerExecCatMs: round(execMs, 1),
    };

    const app = await server.spawn(
      serveArgv({
        port: 8080,
        backlog: 4096,
        accept: "normal",
        reply: true,
        closeFirst: false,
        resetOnClose: false,
      }),
    );
    await new Promise<void>((resolve) =>
      app.onLine((l) => (l.includes("listening") ? resolve() : undefined)),
    );
    const client = topo.nodes.get("client.1")!;
    const host = topo.nodes.get("gw")!.addresses.lan!;
    for (const [gw, rules] of gatewayRules(STANDARD, topo))
      for (const argv of rules) await topo.nodes.get(gw)!.exec(argv);
    const generator: Record<string, unknown> = {};
    for (const [name, target] of [
      ["direct (same network)", null],
      ["through the SNAT gateway", host],
    ] as const) {
      // Direct: a client on the server's network, so the gateway's conntrack is not in the path.
      const from = target === null ? topo.nodes.get("gw")! : client;
      const argv = connectArgv({
        host: target ?? server.addresses.wan!,
        port: 8080,
        connections: GENERATOR_CONNECTIONS,
        concurrency: 200,
        rate: 0,
        connectTimeoutMs: 5000,
        payloadBytes: 0,
        expectReply: false,
        replyTimeoutMs: 2000,
        holdMs: 0,
        close: "client",
        maxMs: 60_000,
      });
      const out = (await from.exec(argv, 90_000)).stdout.trim().split("\n");
      const done = JSON.parse(out[out.length - 1]!) as { attempts: number; elapsedUs: number };
      const connected = out.filter((l) => l.includes('"connected"')).length;
      generator[name] = {
        attempts: done.attempts,
        connected,
        seconds: round(done.elapsedUs / 1e6, 2),
        perSecond: Math.round(done.attempts / (done.elapsedUs / 1e6)),
      };
    }
    results.generator = generator;
  } finally {
    await topo.down();
  }

  say("4. the catalog: serial and --parallel auto (the default)");
  const catalog: Record<string, unknown> = {};
  for (const parallel of [1, "auto"]) {
    const json = `/tmp/tcprepro-bench-${process.pid}-${parallel}.json`;
    const t0 = performance.now();
    const r = await run([
      process.execPath,
      "bin/tcprepro.js",
      "run",
      "scenarios/",
      "--parallel",
      String(parallel),
      "--json",
      json,
    ]);
    const wallMs = performance.now() - t0;
    const report = JSON.parse((await import("node:fs")).readFileSync(json, "utf8")) as RunReport;
    catalog[`parallel${parallel}`] = { exit: r.code, wallS: round(wallMs / 1000) };
    if (parallel === 1) {
      catalog.variants = report.scenarios.flatMap((s) =>
        s.variants.map((v) => ({
          variant: `${s.name}/${v.variant}`,
          verdict: v.verdict,
          totalS: round(v.durationMs / 1000, 2),
          askedS: round((v.timelineMs ?? 0) / 1000, 2),
          overheadS: round((v.durationMs - (v.timelineMs ?? 0)) / 1000, 2),
          upS: round((v.upMs ?? 0) / 1000, 2),
          downS: round((v.downMs ?? 0) / 1000, 2),
        })),
      );
    }
  }
  results.catalog = catalog;

  write(results);
}

function render(r: Record<string, unknown>): string {
  const t = r.topology as {
    tcprepro: { upMs: number; downMs: number };
    engineWired?: { upMs: number; downMs: number };
    dockerCli: { upMs: number; downMs: number };
    ratio: number;
    engineWiredRatio?: number;
    iterations: number;
    load?: number[];
    wiring?: { wiring: string; why?: string };
    date?: string;
  };
  const n = r.netnsTopology as { upMs: number; downMs: number };
  const s = r.snapshot as {
    perNodeMs: number;
    perTopologyMs: number;
    nodes: number;
    forComparisonDockerExecCatMs: number;
  };
  const g = r.generator as Record<
    string,
    { attempts: number; connected: number; seconds: number; perSecond: number }
  >;
  const c = r.catalog as {
    parallel1: { wallS: number; exit: number };
    parallelauto: { wallS: number; exit: number };
    variants: Array<Record<string, string | number>>;
  };
  const m = r.machine as { cpus: number; kernel: string; date: string };
  const lines = [
    "# Benchmarks",
    "",
    `Written by \`npm run bench\` on ${m.date} (${m.cpus} cores, kernel ${m.kernel}). Medians of ${t.iterations} runs where repeated.`,
    "",
    ...renderStart(r.start as StartTimes | undefined),
    "## 1. Standard topology up and down (2 networks, SNAT gateway, 2 clients, server)",
    "",
    ...(t.date && t.date !== m.date
      ? [
          `Measured on ${t.date} (\`npx tsx bench/bench.ts --topology\` rewrites this section only).`,
          "",
        ]
      : []),
    "| | up ms | down ms | total ms |",
    "| --- | --- | --- | --- |",
    `| tcprepro: containers with no network, wired with its own veths (${t.wiring?.wiring ?? "?"}) | ${t.tcprepro.upMs} | ${t.tcprepro.downMs} | ${round(t.tcprepro.upMs + t.tcprepro.downMs)} |`,
    ...(t.engineWired
      ? [
          `| tcprepro with TCPREPRO_DOCKER_WIRING=engine (internal networks, as before issue 24) | ${t.engineWired.upMs} | ${t.engineWired.downMs} | ${round(t.engineWired.upMs + t.engineWired.downMs)} |`,
        ]
      : []),
    `| plain docker CLI, one command after another (internal networks) | ${t.dockerCli.upMs} | ${t.dockerCli.downMs} | ${round(t.dockerCli.upMs + t.dockerCli.downMs)} |`,
    "",
    `Ratio tcprepro / CLI: **${t.ratio}** (target ≤ 0.5)${t.engineWiredRatio !== undefined ? `; engine-wired: ${t.engineWiredRatio}` : ""}. The three alternate within one run${t.load ? `; 1-minute load average ${t.load.join(" → ")} (the machine is shared: absolute times are upper bounds, the ratios are what to read)` : ""}.`,
    "",
    "What bounds it: the engine's container start. With a network the engine also builds each container's endpoint and sandbox, much of it serialised (~200 ms a container: `docker run --network none` 557–622 ms against 776–814 ms on an internal network, measured for issue 24), and removes them at teardown. Containers now start with `NetworkMode none`; tcprepro creates them (labelled) in parallel, then a switch namespace with a bridge per network, and plugs each container as soon as it runs: one `ip -batch` on the host making the veth pair straight into the container's namespace (by PID) and the switch, then `nsenter … ip -batch` inside for the address and one in the switch for the port — a few ms each, as on the netns runtime. Teardown deletes the switch (every veth pair goes with it) and removes the containers, which no longer have endpoints to undo. Measured by phase (5 runs at load ~11): create ~100 ms, first container running ~900 ms after (the engine's start dominates), wiring 5–100 ms a container.",
    "",
    `On the netns runtime (network namespaces, no engine): up **${n.upMs} ms**, down **${n.downMs} ms**, total **${round(n.upMs + n.downMs)} ms** (target < 300 ms).`,
    "",
    // Measured once, before and after (issue 27); the figure above already includes its cost.
    "Each netns node also gets its own mount namespace (the host's files read-only, private /tmp, /run, /var/tmp, /dev; issue 27): one perl doing the mounts with the new mount API per node, in the anchor's existing fork. Measured on 2026-12-06 with `tsx bench/netns-up-pair.ts 40 <checkout of f21df11> .` (before and after interleaved run by run, on a shared machine at load average 9-11 on 2 cores): up **89.2 \u2192 99.5, 119.7 \u2192 138.4, 144.8 \u2192 148.1 ms** in three runs of 40, about **+10 ms** for the 4-node topology; down unchanged (15.5 \u2192 13.8, 21.8 \u2192 22.3, 29.2 \u2192 30.6 ms). Per node, serially: the anchor's set-up 6.4 \u2192 15.4 ms (median of 40, `ip netns exec` with and without the mount script), most of it perl's start. The same machine idle measured 55.4 ms up before (above, 2026-11-30).",
    "",
    "## 2. Counter snapshots",
    "",
    `One node (netstat + snmp + nf_conntrack, read from the host through /proc/<pid>/net): **${s.perNodeMs} ms** (target < 20 ms). The whole topology (${s.nodes} nodes, in parallel): **${s.perTopologyMs} ms**. For comparison, one \`docker exec cat\` of the same files: ${s.forComparisonDockerExecCatMs} ms.`,
    "",
    `## 3. Traffic generator (one client node, healthy server, ${GENERATOR_CONNECTIONS.toLocaleString("en")} connections, 200 in flight)`,
    "",
    "| path | attempts | connected | s | attempts/s |",
    "| --- | --- | --- | --- | --- |",
    ...Object.entries(g).map(
      ([k, v]) => `| ${k} | ${v.attempts} | ${v.connected} | ${v.seconds} | **${v.perSecond}** |`,
    ),
    "",
    "Target ≥ 10,000 attempts/s. The generator is bound by kernel time: each connect() runs the whole handshake in softirq on a 2-core machine shared by client, gateway and server (the agent alone on loopback: 15,000-16,000/s). The client nodes here have `ip_local_port_range 1024 65535`: with the default range a node runs out of ports after ~14,000 connections in TIME_WAIT (connect() prefers even ports; measured 10,600 attempts in the first second, then ~200/s) — the kernel's port-exhaustion limit, which the catalog's port-exhaustion scenario reproduces on purpose.",
    "",
    "## 4. The catalog",
    "",
    `Serial: **${c.parallel1.wallS} s** (exit ${c.parallel1.exit}); the defaults (\`--parallel auto\`): **${c.parallelauto.wallS} s** (exit ${c.parallelauto.exit}) (target ≤ 90 s).`,
    "",
    "Per variant (serial run): what the scenario asks for (traffic, faults, settle) vs our overhead (topology up, app start, snapshots, down).",
    "",
    "| variant | verdict | total s | asked s | overhead s | up s | down s |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...c.variants.map(
      (v) =>
        `| ${v.variant} | ${v.verdict} | ${v.totalS} | ${v.askedS} | ${v.overheadS} | ${v.upS} | ${v.downS} |`,
    ),
    "",
  ];
  return lines.join("\n");
}

await main();
