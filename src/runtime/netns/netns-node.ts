/**
 * One node of the netns runtime: a named network namespace, held open by an anchor process
 * (`tcprepro-agent hold`) whose /proc/<pid>/net shows the namespace's own counters without a
 * fork per sample. Commands run as host binaries entered into the namespace with
 * `ip netns exec`, which execs the command in place: the child's PID is the command's.
 */
import { spawn as spawnChild, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { readFile } from "node:fs/promises";
import { AGENT_PATH } from "../../agent/protocol.js";
import type { ExecResult, NodeProcess, StartedNode } from "../runtime.js";
import { ExecError } from "../../util/errors.js";
import { LineFeed } from "../../util/lines.js";
import { waitFor, withDeadline } from "../../util/time.js";
import { pidsIn, processState, signalAll } from "./ip.js";

/** How long `pause` waits for its SIGSTOPs to have taken effect. */
const PAUSE_WAIT_MS = 2_000;

/** Exit status the way a shell (and `docker exec`) reports a death by signal: 128 + signo. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  return signal ? 128 + constants.signals[signal] : null;
}

export class NetnsNode implements StartedNode {
  /** Processes that `pause` stopped (and only those: one the scenario stopped itself stays so). */
  private paused: number[] = [];

  constructor(
    readonly name: string,
    readonly addresses: Record<string, string>,
    /** Name under /run/netns. */
    readonly namespace: string,
    /** Host PID of the anchor, inside the namespace. */
    private readonly anchorPid: number,
    /** Host path of the agent binary, standing in for the image's AGENT_PATH. */
    private readonly agentBinary: string,
  ) {}

  /** `ip netns exec <ns> argv…`, the image's agent path mapped to the host's binary. */
  private command(argv: string[]): string[] {
    return [
      "ip",
      "netns",
      "exec",
      this.namespace,
      ...argv.map((a) => (a === AGENT_PATH ? this.agentBinary : a)),
    ];
  }

  private start(argv: string[]): ChildProcess {
    const [cmd, ...args] = this.command(argv);
    // Its own process group: a Ctrl-C at the terminal reaches the harness, which tears down in
    // order, not the node's processes directly (as with containers, which are not ours either).
    return spawnChild(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  }

  async exec(argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    const child = this.start(argv);
    const run = new Promise<ExecResult>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", (err) => reject(new ExecError(argv, null, err.message, this.name)));
      child.on("close", (code, signal) => {
        const status = exitStatus(code, signal);
        if (status === 0) resolve({ stdout, stderr });
        else reject(new ExecError(argv, status, stderr, this.name));
      });
    });
    try {
      return await withDeadline(run, timeoutMs, `${this.name}: ${argv.join(" ")}`);
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      throw err;
    }
  }

  async spawn(argv: string[]): Promise<NodeProcess> {
    const child = this.start(argv);
    const lines = new LineFeed();
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => lines.push(d));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    // 'close' comes after both pipes are drained: every line has been delivered by then.
    const exited = new Promise<number | null>((resolve) => {
      child.on("error", (err) => {
        stderr += err.message;
        resolve(null);
      });
      child.on("close", (code, signal) => {
        lines.end();
        resolve(exitStatus(code, signal));
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(new ExecError(argv, null, err.message, this.name)));
    });
    const pid = child.pid!;
    return {
      onLine: (listener) => lines.onLine(listener),
      exited,
      stderr: () => stderr,
      signal: async (sig) => {
        // Straight to the command (ip netns exec is gone by now: it exec'd it in place). A
        // signal right after spawn may still meet `ip` itself, which dies of it just the same.
        if (child.exitCode !== null || child.signalCode !== null) return;
        process.kill(pid, sig);
      },
    };
  }

  async readProcNet(file: string): Promise<string | undefined> {
    try {
      return await readFile(`/proc/${this.anchorPid}/net/${file}`, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /**
   * The node's filesystem is the host's: namespaces isolate the network, not the mounts, so
   * this reads the host path (through the anchor's root, which is `/`).
   */
  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(`/proc/${this.anchorPid}/root${path}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /**
   * SIGSTOP to every process in the namespace. Unlike `docker pause` (the cgroup freezer) it is
   * a signal: the parent sees the stop (waitpid WUNTRACED), a process forked after the pause runs
   * (the freezer would catch it), and a process already stopped must be left stopped on unpause.
   * Neither stops the kernel: handshakes still complete and queues still fill.
   */
  async pause(): Promise<void> {
    const pids = await pidsIn([this.namespace]);
    const states = await Promise.all(pids.map(processState));
    const running = pids.filter((_, i) => states[i] !== undefined && !/[TtZ]/.test(states[i]!));
    signalAll(running, "SIGSTOP");
    this.paused.push(...running);
    // kill() returns before a sleeping process has taken the signal: a fault "applied at t"
    // must mean stopped by t, so wait (bounded) until each one shows T or is gone.
    await waitFor(
      async () => {
        const now = await Promise.all(running.map(processState));
        return now.every((st) => st === undefined || /[TtZ]/.test(st)) ? true : undefined;
      },
      PAUSE_WAIT_MS,
      `${this.name}: processes stopped`,
      2,
    );
  }

  async unpause(): Promise<void> {
    signalAll(this.paused.splice(0), "SIGCONT");
  }
}
