/**
 * A packet capture inside a node: tcpdump writing each packet as it comes (-U), started before
 * the traffic and stopped with SIGINT so that it flushes and closes the file properly.
 */
import type { NodeProcess, StartedNode } from "../runtime/runtime.js";
import { StepTimeoutError } from "../util/errors.js";
import { waitFor, withDeadline } from "../util/time.js";

/** Headers are enough: the evidence is flags, IP ids, options and timing. */
const SNAPLEN = "160";

export class NodeCapture {
  private constructor(
    private readonly node: StartedNode,
    private readonly proc: NodeProcess,
    private readonly path: string,
  ) {}

  /**
   * In the node's own /tmp (a container's, or a netns node's private tmpfs), read back through
   * the runtime and removed; named after the run and the node all the same.
   */
  static async start(node: StartedNode, runId: string): Promise<NodeCapture> {
    const path = `/tmp/tcprepro-capture-${runId}-${node.name}.pcap`;
    // --immediate-mode: without it the kernel hands packets over in blocks (up to ~1 s late),
    // and a block still pending at SIGINT is lost: a short run's capture came back empty.
    const argv = [
      "tcpdump",
      "-i",
      "any",
      "-n",
      "--immediate-mode",
      "-U",
      "-s",
      SNAPLEN,
      "-w",
      path,
      "tcp",
    ];
    const proc = await node.spawn(argv);
    // tcpdump says so on stderr once its socket is open: packets before that would be missed.
    await waitFor(
      () => (/listening on/.test(proc.stderr()) ? true : undefined),
      10_000,
      `${node.name}: tcpdump listening`,
    );
    return new NodeCapture(node, proc, path);
  }

  /** Stop at once, keeping nothing (the variant failed). */
  kill(): void {
    void this.proc.signal("SIGKILL").catch(() => undefined);
  }

  /** Stop, let tcpdump flush, and return the capture file. */
  async stop(): Promise<Buffer> {
    await this.proc.signal("SIGINT");
    try {
      await withDeadline(this.proc.exited, 10_000, `${this.node.name}: tcpdump stopping`);
    } catch (err) {
      if (!(err instanceof StepTimeoutError)) throw err;
      await this.proc.signal("SIGKILL").catch(() => undefined);
    }
    const file = await this.node.readFile(this.path);
    if (!file) {
      throw new Error(
        `${this.node.name}: tcpdump left no capture at ${this.path}: ${this.proc.stderr().trim()}`,
      );
    }
    await this.node.exec(["rm", "-f", this.path]).catch(() => undefined);
    return file;
  }
}
