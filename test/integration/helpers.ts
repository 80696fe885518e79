/** Shared by integration tests: the real engine, the real CLI, and a count of what is left. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const docker = new Docker();

/** Containers and networks carrying the tcprepro label (optionally of one process's runs). */
export async function leftovers(pid?: number): Promise<{ containers: number; networks: number }> {
  const label = pid === undefined ? ["tcprepro.run"] : [`tcprepro.pid=${pid}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const networks = await docker.listNetworks({ filters: { label } });
  return { containers: containers.length, networks: networks.length };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/**
 * Runs `tcprepro ARGS`; `onStderr` sees stderr as it arrives and may return a signal to send
 * (once) to the CLI — how interrupt tests pick their moment.
 */
export function cli(args: string[], onStderr?: (text: string) => NodeJS.Signals | undefined): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/tcprepro.js", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const sig = signalled ? undefined : onStderr?.(stderr);
      if (sig) {
        signalled = true;
        child.kill(sig);
      }
    });
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
  });
}
