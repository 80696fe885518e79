/**
 * One running container as a StartedNode. Commands go through the engine's exec API; counters
 * and listen queues are read from the host through /proc/<pid>/net, which shows the container's
 * own network namespace without starting a process in it (a sample costs a file read, not an
 * exec). Where the engine is not local (/proc/<pid> is not ours), it falls back to exec.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { ExecResult, NodeOutput, NodeProcess, StartedNode } from "../runtime.js";
import { ExecError } from "../../util/errors.js";
import { LineFeed } from "../../util/lines.js";
import { sleep, withDeadline } from "../../util/time.js";

/** First host number given to nodes in each /24 (.1 is the bridge). */
export const FIRST_HOST = 10;

export function containerName(runId: string, node: string): string {
  return `tcprepro-${runId}-${node.replaceAll(".", "-")}`;
}

export class DockerNode implements StartedNode {
  constructor(
    readonly name: string,
    readonly addresses: Record<string, string>,
    private readonly container: Docker.Container,
    /** Host PID of the container's first process, when the engine is local. */
    private readonly hostPid: number | undefined,
    /** Its IPv6 address on each network that carries IPv6 (veth wiring only). */
    readonly addresses6?: Record<string, string>,
  ) {}

  private async start(
    argv: string[],
  ): Promise<{ exec: Docker.Exec; out: PassThrough; err: PassThrough; ended: Promise<void> }> {
    const exec = await this.container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    this.container.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
    return { exec, out, err, ended };
  }

  async exec(argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    const run = async (): Promise<ExecResult> => {
      const { exec, out, err, ended } = await this.start(argv);
      let stdout = "";
      let stderr = "";
      out.on("data", (d: Buffer) => (stdout += d.toString()));
      err.on("data", (d: Buffer) => (stderr += d.toString()));
      await ended;
      const info = await exec.inspect();
      if (info.ExitCode !== 0) throw new ExecError(argv, info.ExitCode, stderr, this.name);
      return { stdout, stderr };
    };
    return withDeadline(run(), timeoutMs, `${this.name}: ${argv.join(" ")}`);
  }

  async spawn(argv: string[]): Promise<NodeProcess> {
    const { exec, out, err, ended } = await this.start(argv);
    const lines = new LineFeed();
    let stderr = "";
    out.on("data", (d: Buffer) => lines.push(d));
    err.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = ended.then(async () => {
      lines.end();
      try {
        return (await exec.inspect()).ExitCode ?? null;
      } catch {
        return null; // the container went away with the process
      }
    });
    // The exec's host PID, for signals that must arrive now (a SIGSTOP at t = 1 s), not after
    // another exec round trip. The engine usually reports it, but under load its exec inspect
    // has answered Pid 0 for a process that was already running (1 SIGSTOP in 10 repeats of
    // sigstop-recovery failed that way): then find the process ourselves, by its argv, among
    // those in the container's PID namespace.
    let pid: number | undefined;
    const hostPid = async (): Promise<number | undefined> => {
      if (pid !== undefined || this.hostPid === undefined) return pid;
      for (let i = 0; i < 5 && !pid; i++) {
        pid = (await exec.inspect()).Pid || undefined;
        if (!pid) await sleep(20);
      }
      pid ??= await findInNamespace(this.hostPid, argv);
      return pid;
    };
    return {
      onLine: (listener) => lines.onLine(listener),
      exited,
      stderr: () => stderr,
      signal: async (sig) => {
        const p = await hostPid();
        if (p !== undefined) process.kill(p, sig);
        else
          throw new ExecError(
            ["kill", sig],
            null,
            "the engine is not local: cannot signal the process",
            this.name,
          );
      },
    };
  }

  async readProcNet(file: string): Promise<string | undefined> {
    if (this.hostPid !== undefined) {
      try {
        return await readFile(`/proc/${this.hostPid}/net/${file}`, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    }
    try {
      return (await this.exec(["cat", `/proc/net/${file}`])).stdout;
    } catch {
      return undefined;
    }
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    if (this.hostPid !== undefined) {
      // The container's root as the host sees it: no copy through the engine.
      try {
        return await readFile(`/proc/${this.hostPid}/root${path}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    }
    try {
      return Buffer.from((await this.exec(["base64", "-w0", path])).stdout.trim(), "base64");
    } catch {
      return undefined;
    }
  }

  async pause(): Promise<void> {
    await this.container.pause();
  }

  async unpause(): Promise<void> {
    await this.container.unpause();
  }

  async output(tailLines?: number): Promise<NodeOutput> {
    const info = await this.container.inspect();
    const raw = (await this.container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      ...(tailLines !== undefined ? { tail: tailLines } : {}),
    })) as unknown as Buffer;
    return {
      running: info.State.Running,
      exitCode: info.State.Running ? null : info.State.ExitCode,
      logs: demuxLogs(raw),
    };
  }
}

/**
 * The engine's log stream of a container without a TTY: frames of an 8-byte header (stream,
 * 0, 0, 0, size as big-endian uint32) and the payload.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Host PID of the process running `argv` in the same PID namespace as `anchorPid`. */
export async function findInNamespace(
  anchorPid: number,
  argv: string[],
): Promise<number | undefined> {
  const ns = await readlink(`/proc/${anchorPid}/ns/pid`).catch(() => undefined);
  if (!ns) return undefined;
  const wanted = argv.join("\0") + "\0";
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    const n = Number(entry);
    if (!Number.isInteger(n) || n === anchorPid) continue;
    try {
      if ((await readlink(`/proc/${n}/ns/pid`)) !== ns) continue;
      if ((await readFile(`/proc/${n}/cmdline`, "utf8")) === wanted) found.push(n);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  // Several copies of the same command: the newest is the one just started.
  return found.length > 0 ? Math.max(...found) : undefined;
}

/**
 * Docker gives every container a default route via the bridge, internal networks included (the
 * engine then drops what leaves). No node needs it — clients reach the gateway's own address on
 * their subnet — so it goes: a node has routes to its own subnets and nothing else.
 */
export async function dropDefaultRoute(
  node: DockerNode,
  hostPid: number | undefined,
): Promise<void> {
  // From the host when the engine is local: ~5 ms, against ~35 ms for an exec, and it works for
  // a user's image without iproute2.
  if (hostPid !== undefined) {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        "nsenter",
        ["-t", String(hostPid), "-n", "ip", "-4", "route", "del", "default"],
        { stdio: "ignore" },
      );
      child.on("error", () => resolve(null));
      child.on("close", resolve);
    });
    if (code === 0 || code === 2) return; // 2: there was no default route
  }
  try {
    await node.exec(["ip", "-4", "route", "del", "default"]);
  } catch (err) {
    if (!/No such process|Cannot find device/i.test(String((err as Error).message))) throw err;
  }
}
