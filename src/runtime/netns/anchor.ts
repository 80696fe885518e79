/**
 * A node's setup and its anchor in one process: inside the namespace (`ip netns exec`), `ip`
 * reads the node's link commands from stdin, `sysctl` applies its settings, and the shell then
 * execs `tcprepro-agent hold`, the process that holds the node and through whose PID the host
 * reads the node's /proc/net. One fork per node instead of three: from Node a process costs
 * ~5 ms to start, which is most of the topology's start-up.
 */
import { spawn } from "node:child_process";
import { readlink } from "node:fs/promises";
import { waitFor } from "../../util/time.js";

/**
 * Constant: everything variable goes in as positional arguments ("$@": the sysctls) and the
 * environment, never spliced into the script. The anchor's stdio goes to /dev/null, so our
 * stderr pipe closes exactly when the setup is over, whether it failed or not.
 */
const SCRIPT = [
  "ip -batch - || exit 10",
  'sysctl -q -w "$@" || exit 11',
  'exec "$TCPREPRO_AGENT" hold </dev/null >/dev/null 2>&1',
].join("\n");

export interface AnchorOptions {
  /** Node name, for errors. */
  node: string;
  namespace: string;
  /** `ip -batch` lines run inside the namespace. */
  links: string[];
  sysctls: Record<string, string>;
  agentBinary: string;
}

/**
 * Sets the node up and starts its anchor: detached and unreferenced, so it takes neither our
 * terminal's signals nor holds our event loop; teardown kills it. Resolves with its PID once it
 * runs the agent, inside the namespace.
 */
export async function startAnchor(o: AnchorOptions): Promise<number> {
  const settings = Object.entries(o.sysctls).map(([k, v]) => `${k}=${v}`);
  const child = spawn("ip", ["netns", "exec", o.namespace, "sh", "-c", SCRIPT, "sh", ...settings], {
    stdio: ["pipe", "ignore", "pipe"],
    detached: true,
    env: { ...process.env, TCPREPRO_AGENT: o.agentBinary },
  });
  child.unref();
  let stderr = "";
  const setupOver = new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stderr!.on("close", () => resolve());
  });
  child.stdin!.end(o.links.join("\n") + "\n");
  await setupOver;
  const pid = child.pid!;
  // The pipe closed at the shell's exit or at the redirection just before its exec: the agent's
  // binary as the process's image says it got there.
  const started = await waitFor(
    async () => {
      const exe = await readlink(`/proc/${pid}/exe`).catch(() => undefined);
      if (exe === o.agentBinary) return true;
      // Exited (a zombie's exe cannot be read): the setup failed.
      return exe === undefined || child.exitCode !== null ? false : undefined;
    },
    5_000,
    `node ${o.node}: anchor starting`,
    1,
  );
  if (started) return pid;
  const code = await exitCode(child);
  if (code === 11) {
    const key =
      Object.keys(o.sysctls).find(
        (k) => stderr.includes(k) || stderr.includes(k.replaceAll(".", "/")),
      ) ?? Object.keys(o.sysctls).join(", ");
    throw new Error(`node ${o.node}: sysctl ${key} could not be set: ${stderr.trim()}`);
  }
  if (code === 10)
    throw new Error(`node ${o.node}: configuring its links failed: ${stderr.trim()}`);
  throw new Error(`node ${o.node}: its anchor did not start (exit ${code}): ${stderr.trim()}`);
}

function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
