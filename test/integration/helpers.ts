/** Shared by integration tests: the real engine, the real CLI, and a count of what is left. */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { readState, stateRunIds } from "../../src/runtime/netns/state.js";
import { switchName, switchRunIds } from "../../src/runtime/docker/wiring.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const docker = new Docker();

/**
 * Containers and networks carrying the tcprepro label (optionally of one process's runs). A
 * veth-wired run's switch namespace carries no label: one whose run has no container left is a
 * leftover, whichever process made it (teardown deletes the switch before the containers).
 */
export async function leftovers(pid?: number): Promise<{ containers: number; networks: number }> {
  const label = pid === undefined ? ["tcprepro.run"] : [`tcprepro.pid=${pid}`];
  const switches = await switchRunIds();
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const networks = await docker.listNetworks({ filters: { label } });
  const anyRun = await docker.listContainers({ all: true, filters: { label: ["tcprepro.run"] } });
  const live = new Set(anyRun.map((c) => c.Labels["tcprepro.run"]));
  const orphans = switches.filter((id) => !live.has(id)).length;
  return { containers: containers.length, networks: networks.length + orphans };
}

/** netns runs of one process still on the host: their state files outlive every namespace. */
export function netnsLeftovers(pid: number): number {
  return stateRunIds().filter((id) => readState(id)?.pid === pid).length;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Send `signal` `afterMs` after stderr first matches `trigger` (a timer, not the next output). */
export interface TimedSignal {
  trigger: RegExp;
  afterMs: number;
  signal: NodeJS.Signals;
}

/**
 * Runs `tcprepro ARGS`; `onStderr` sees stderr as it arrives and may return a signal to send
 * (once) to the CLI — how interrupt tests pick their moment. `timed` sends one on a timer.
 */
export function cli(
  args: string[],
  onStderr?: (text: string) => NodeJS.Signals | undefined,
  env: Record<string, string> = {},
  wrapper: string[] = [],
  timed?: TimedSignal,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const argv = [...wrapper, process.execPath, "bin/tcprepro.js", ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    child.on("exit", () => clearTimeout(timer));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (timed && !timer && timed.trigger.test(stderr)) {
        timer = setTimeout(() => {
          signalled = true;
          child.kill(timed.signal);
        }, timed.afterMs);
      }
      const sig = signalled ? undefined : onStderr?.(stderr);
      if (sig) {
        signalled = true;
        child.kill(sig);
      }
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
  });
}

/** Bridges in a veth-wired Docker run's switch namespace (0 when it has none). */
export function bridgesOf(runId: string): number {
  const r = spawnSync("ip", ["-n", switchName(runId), "-o", "link", "show", "type", "bridge"], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.split("\n").filter((l) => l.trim() !== "").length : 0;
}
