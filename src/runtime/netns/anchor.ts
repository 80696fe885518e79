/**
 * A node's setup and its anchor in one process: inside the namespace (`ip netns exec`), `ip`
 * reads the node's link commands from stdin, `sysctl` applies its settings, the shell makes the
 * node's filesystem (sandbox.ts: the host's read-only, its own /tmp, /run, /dev) and then execs
 * `tcprepro-agent hold`, the process that holds the node and through whose PID the host reads
 * the node's /proc/net and enters its namespaces. One fork from Node per node instead of three:
 * from Node a process costs ~5 ms to start, which is most of the topology's start-up.
 */
import { waitFor } from "../../util/time.js";
import type { HostExecutor } from "./host.js";
import { SANDBOX_SCRIPT } from "./sandbox.js";
import { PROJECT_ROOT } from "../../util/project.js";

/**
 * Constant: everything variable goes in as positional arguments ("$@": the sysctls) and the
 * environment, never spliced into the script. The anchor's stdio goes to /dev/null, so our
 * stderr pipe closes exactly when the setup is over, whether it failed or not.
 */
const script = (isolate: boolean) =>
  [
    "ip -batch - || exit 10",
    '[ $# -eq 0 ] || sysctl -q -w "$@" || exit 11',
    ...(isolate ? SANDBOX_SCRIPT : []),
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
  /** Give the node its own filesystem view (sandbox.ts). */
  isolate: boolean;
  exec: HostExecutor;
}

/**
 * Sets the node up and starts its anchor: detached and unreferenced, so it takes neither our
 * terminal's signals nor holds our event loop; teardown kills it. Resolves with its PID once it
 * runs the agent, inside the namespace.
 */
export async function startAnchor(o: AnchorOptions): Promise<number> {
  const settings = Object.entries(o.sysctls).map(([k, v]) => `${k}=${v}`);
  const child = await o.exec.spawn(
    ["ip", "netns", "exec", o.namespace, "sh", "-c", script(o.isolate), "sh", ...settings],
    {
      input: o.links.join("\n") + "\n",
      // The package (scripts, fixtures) and the working directory stay visible in the node when
      // they lie under a path it covers with its own tmpfs: a checkout in /tmp, as CI's may be.
      env: { TCPREPRO_AGENT: o.agentBinary, TCPREPRO_KEEP: `${PROJECT_ROOT}:${process.cwd()}` },
      background: true,
    },
  );
  let stderr = "";
  child.onData((fd, d) => (fd === 2 ? (stderr += d.toString()) : undefined));
  await child.stderrClosed;
  const pid = child.pid;
  // The pipe closed at the shell's exit or at the redirection just before its exec: the agent's
  // binary as the process's image says it got there.
  const started = await waitFor(
    async () => {
      const exe = await o.exec.readlink(`/proc/${pid}/exe`);
      if (exe === o.agentBinary) return true;
      // Exited (a zombie's exe cannot be read): the setup failed.
      return exe === undefined || child.ended ? false : undefined;
    },
    5_000 * o.exec.slowdown,
    `node ${o.node}: anchor starting`,
    1,
  );
  if (started) return pid;
  const code = await child.exited;
  if (code === 11) {
    const key =
      Object.keys(o.sysctls).find(
        (k) => stderr.includes(k) || stderr.includes(k.replaceAll(".", "/")),
      ) ?? Object.keys(o.sysctls).join(", ");
    throw new Error(`node ${o.node}: sysctl ${key} could not be set: ${stderr.trim()}`);
  }
  if (code === 12 || code === 13 || code === 14)
    throw new Error(
      `node ${o.node}: its filesystem (read-only host, private /tmp, /run, /dev) could not be set up (exit ${code}): ${stderr.trim()}`,
    );
  if (code === 10)
    throw new Error(`node ${o.node}: configuring its links failed: ${stderr.trim()}`);
  throw new Error(`node ${o.node}: its anchor did not start (exit ${code}): ${stderr.trim()}`);
}
