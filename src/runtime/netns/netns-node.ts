/**
 * One node of the netns runtime: a named network namespace and a mount namespace of its own
 * (sandbox.ts: the host's files read-only, private /tmp, /run, /dev), both held open by an
 * anchor process (`tcprepro-agent hold`) whose /proc/<pid>/net shows the namespace's own
 * counters without a fork per sample. Commands run as host binaries entered into the anchor's
 * namespaces with `nsenter`, which, like the `setpriv` that bounds their capabilities, execs the
 * command in place: the child's PID is the command's.
 * "Host" is wherever the executor runs them: this machine, or a VM's kernel.
 */
import { AGENT_PATH } from "../../agent/protocol.js";
import type { ExecResult, NodeProcess, StartedNode } from "../runtime.js";
import { ExecError } from "../../util/errors.js";
import { LineFeed } from "../../util/lines.js";
import { waitFor, withDeadline } from "../../util/time.js";
import type { HostChild, HostExecutor } from "./host.js";
import { pidsIn, processState, signalAll } from "./ip.js";
import { enterNode } from "./sandbox.js";

export class NetnsNode implements StartedNode {
  /** Processes that `pause` stopped (and only those: one the scenario stopped itself stays so). */
  private paused: number[] = [];

  constructor(
    readonly name: string,
    readonly addresses: Record<string, string>,
    readonly addresses6: Record<string, string> | undefined,
    /** Name under /run/netns. */
    readonly namespace: string,
    /** Host PID of the anchor, inside the namespace. */
    private readonly anchorPid: number,
    /** Host path of the agent binary, standing in for the image's AGENT_PATH. */
    private readonly agentBinary: string,
    private readonly host: HostExecutor,
    /** In the anchor's mount namespace and capability bound (sandbox.ts), or the network one only. */
    private readonly isolated = true,
  ) {}

  /** argv entered into the node, the image's agent path mapped to the host's binary. */
  private command(argv: string[]): string[] {
    const mapped = argv.map((a) => (a === AGENT_PATH ? this.agentBinary : a));
    return this.isolated
      ? enterNode(this.anchorPid, mapped)
      : ["ip", "netns", "exec", this.namespace, ...mapped];
  }

  private start(argv: string[]): Promise<HostChild> {
    return this.host.spawn(this.command(argv));
  }

  async exec(argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    const child = await this.start(argv).catch((err: Error) => {
      throw new ExecError(argv, null, err.message, this.name);
    });
    let stdout = "";
    let stderr = "";
    child.onData((fd, d) => (fd === 1 ? (stdout += d.toString()) : (stderr += d.toString())));
    const run = child.exited.then((status) => {
      if (status === 0) return { stdout, stderr };
      throw new ExecError(argv, status, stderr, this.name);
    });
    try {
      return await withDeadline(run, timeoutMs, `${this.name}: ${argv.join(" ")}`);
    } catch (err) {
      if (!child.ended) await this.host.kill(child.pid, "SIGKILL");
      throw err;
    }
  }

  async spawn(argv: string[]): Promise<NodeProcess> {
    const child = await this.start(argv).catch((err: Error) => {
      throw new ExecError(argv, null, err.message, this.name);
    });
    const lines = new LineFeed();
    let stderr = "";
    child.onData((fd, d) => (fd === 1 ? lines.push(d) : (stderr += d.toString())));
    // Exit is reported after both pipes are drained: every line has been delivered by then.
    const exited = child.exited.then((status) => {
      lines.end();
      return status;
    });
    return {
      onLine: (listener) => lines.onLine(listener),
      exited,
      stderr: () => stderr,
      signal: async (sig) => {
        // Straight to the command (nsenter and setpriv are gone by now: they exec'd it in place).
        // A signal right after spawn may still meet one of them, which dies of it just the same.
        if (child.ended) return;
        await this.host.kill(child.pid, sig);
      },
    };
  }

  async readProcNet(file: string): Promise<string | undefined> {
    return (await this.host.readFile(`/proc/${this.anchorPid}/net/${file}`))?.toString();
  }

  /**
   * Through the anchor's root, which resolves in the node's mount namespace: its own /tmp, not
   * the host's.
   */
  async readFile(path: string): Promise<Buffer | undefined> {
    return this.host.readFile(`/proc/${this.anchorPid}/root${path}`);
  }

  /**
   * SIGSTOP to every process in the namespace. Unlike `docker pause` (the cgroup freezer) it is
   * a signal: the parent sees the stop (waitpid WUNTRACED), a process forked after the pause runs
   * (the freezer would catch it), and a process already stopped must be left stopped on unpause.
   * Neither stops the kernel: handshakes still complete and queues still fill.
   */
  async pause(): Promise<void> {
    const pids = await pidsIn(this.host, [this.namespace]);
    const states = await Promise.all(pids.map((p) => processState(this.host, p)));
    const running = pids.filter((_, i) => states[i] !== undefined && !/[TtZ]/.test(states[i]!));
    await signalAll(this.host, running, "SIGSTOP");
    this.paused.push(...running);
    // A signal is delivered when its target next runs: return once they are all stopped, as
    // `docker pause` returns once the cgroup is frozen.
    await waitFor(
      async () => {
        const now = await Promise.all(running.map((p) => processState(this.host, p)));
        return now.every((st) => st === undefined || /[TtZ]/.test(st)) ? true : undefined;
      },
      2_000 * this.host.slowdown,
      `${this.name}: pausing`,
      5,
    ).catch(() => undefined);
  }

  async unpause(): Promise<void> {
    await signalAll(this.host, this.paused.splice(0), "SIGCONT");
  }
}
