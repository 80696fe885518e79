/**
 * The top-level docker-compose.yml (the export of the standard topology) with Debian's
 * docker-compose: it comes up, a client connects through the gateway's address, the server's
 * accept queue overflows as in scenarios/accept-queue-overflow.yaml, and `down` leaves nothing.
 *
 * docker-compose comes from Debian's packages (apt-get install -y docker-compose). Without it the
 * test skips, except in CI, where its absence is a failure.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { AgentLine } from "../../src/agent/protocol.js";
import { parseProcNetCounters, parseSsListen } from "../../src/evidence/proc.js";
import { composeFile } from "../../src/run/compose.js";
import { connectDocker, DockerRuntime } from "../../src/runtime/docker/docker-runtime.js";
import { loadScenario } from "../../src/scenario/load.js";
import { docker, ROOT } from "./helpers.js";

const COMPOSE = "/usr/bin/docker-compose";
const PROJECT = `tcprepro-compose-test-${process.pid}`;
const FILE = `${ROOT}/docker-compose.yml`;
// The addresses the file gives the nodes, from the same export the file is checked against.
const exported = composeFile(
  loadScenario(
    "scenarios/accept-queue-overflow.yaml",
    { sysctlExists: () => true },
    readFileSync(`${ROOT}/scenarios/accept-queue-overflow.yaml`, "utf8"),
  ),
);
const gwLan = exported.services.find((s) => s.service === "gw")!.addresses.lan!;

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

function compose(args: string[], timeoutMs = 120_000): Promise<Out> {
  return new Promise((resolve) => {
    execFile(
      COMPOSE,
      ["-p", PROJECT, "-f", FILE, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `connect` from a client to the gateway's address: at most `maxMs`, outcomes counted. */
async function connect(client: string, connections: number, timeoutMs: number) {
  const argv = [
    "/opt/tcprepro/tcprepro-agent",
    "connect",
    "--host",
    gwLan,
    "--port",
    "8080",
    "--connections",
    String(connections),
    "--concurrency",
    String(connections),
    "--rate",
    "0",
    "--connect-timeout-ms",
    String(timeoutMs),
    "--payload-bytes",
    "0",
    "--reply-timeout-ms",
    "1000",
    "--hold-ms",
    "0",
    "--close",
    "client",
    "--max-ms",
    "10000",
  ];
  const run = await compose(["exec", "-T", client, ...argv], 30_000);
  const outcomes: Record<string, number> = {};
  for (const line of run.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const msg = JSON.parse(line) as AgentLine;
    if (msg.ev === "attempt") outcomes[msg.outcome] = (outcomes[msg.outcome] ?? 0) + 1;
  }
  return { run, outcomes };
}

async function leftovers(): Promise<{ containers: number; networks: number }> {
  const filters = { label: [`com.docker.compose.project=${PROJECT}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = (await docker.listNetworks()).filter((n) => n.Name.startsWith(`${PROJECT}_`));
  return { containers: containers.length, networks: networks.length };
}

afterAll(async () => {
  if (existsSync(COMPOSE)) await compose(["down", "-v", "--remove-orphans", "-t", "2"]);
});

describe("docker-compose.yml with docker-compose", () => {
  it("comes up, connects through the gateway, overflows the accept queue, and goes down", async (ctx) => {
    if (!existsSync(COMPOSE)) {
      if (process.env.CI)
        throw new Error(`${COMPOSE} is missing: CI must install Debian's docker-compose`);
      ctx.skip(`${COMPOSE} is not installed (apt-get install -y docker-compose)`);
    }
    // The file names tcprepro/node:latest: build it when missing, as `run` would.
    await new DockerRuntime(await connectDocker()).prepare(() => undefined);

    // The file's subnets are fixed; a tcprepro run may hold one of them for a few seconds.
    await expect
      .poll(
        async () => {
          const up = await compose(["up", "-d"]);
          if (up.code === 0) return "up";
          if (!/overlap/i.test(up.stderr)) throw new Error(`docker-compose up: ${up.stderr}`);
          await compose(["down", "-v", "-t", "1"]);
          return "a subnet is taken";
        },
        { timeout: 90_000, interval: 250, message: "docker-compose up (the file's subnets free)" },
      )
      .toBe("up");

    const ids = (await compose(["ps", "-q"])).stdout.trim().split("\n").filter(Boolean);
    expect(ids).toHaveLength(exported.services.length);
    for (const id of ids)
      expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);

    // The app listens, the gateway's rules are in: one connection through the gateway gets in.
    const wait = { timeout: 30_000, interval: 250 };
    await expect
      .poll(
        async () => {
          const ss = await compose(["exec", "-T", "server", "ss", "-lnt"]);
          return parseSsListen(ss.stdout).map((l) => l.port);
        },
        { ...wait, message: "the server listening on 8080" },
      )
      .toContain(8080);
    await expect
      .poll(async () => (await connect("client-1", 1, 1000)).outcomes, {
        ...wait,
        message: "a connection through the gateway",
      })
      .toMatchObject({ connected: 1 });

    // The scenario's burst: 2 × 50 at once into a queue of 8 that is never accepted.
    const [a, b] = await Promise.all([
      connect("client-1", 50, 2000),
      connect("client-2", 50, 2000),
    ]);
    expect(a.run.code, a.run.stderr).toBe(0);
    expect(b.run.code, b.run.stderr).toBe(0);
    const timedOut = (a.outcomes.timeout ?? 0) + (b.outcomes.timeout ?? 0);
    expect(timedOut).toBeGreaterThan(0);
    const listen = parseSsListen((await compose(["exec", "-T", "server", "ss", "-lnt"])).stdout);
    const q = listen.find((l) => l.port === 8080)!;
    expect({ recvQ: q.recvQ, sendQ: q.sendQ }).toEqual({ recvQ: 9, sendQ: 8 });
    const netstat = await compose(["exec", "-T", "server", "cat", "/proc/net/netstat"]);
    expect(parseProcNetCounters(netstat.stdout).TcpExtListenOverflows).toBeGreaterThan(0);

    const down = await compose(["down", "-v", "--remove-orphans", "-t", "2"]);
    expect(down.code, down.stderr).toBe(0);
    expect(await leftovers()).toEqual({ containers: 0, networks: 0 });
  });
});
