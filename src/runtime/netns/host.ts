/**
 * Where the netns runtime's namespaces live: this machine (the local executor, plain
 * child_process and fs), or a VM's kernel (src/vm/guest-executor.ts, the same operations over
 * the guest agent's channel). The topology code is written once against this interface.
 */
import { spawn as spawnChild } from "node:child_process";
import { readdir, readFile, readlink, stat } from "node:fs/promises";
import { constants } from "node:os";
import { ExecError } from "../../util/errors.js";

export interface HostResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface HostChild {
  readonly pid: number;
  /** Output as it comes (fd 1 or 2); chunks from before the first listener are kept for it. */
  onData(listener: (fd: 1 | 2, chunk: Buffer) => void): void;
  /** The process's stderr closed: its end, or a redirection just before an exec. */
  readonly stderrClosed: Promise<void>;
  /** Exit status (128 + signo after a signal) once it ended and its output is drained. */
  readonly exited: Promise<number | null>;
  readonly ended: boolean;
}

export interface SpawnOptions {
  /** Written to stdin, which is then closed; absent: stdin is /dev/null. */
  input?: string;
  env?: Record<string, string>;
  /** Lives past us (an anchor): not waited for by our event loop. */
  background?: boolean;
}

export interface HostExecutor {
  /** Where: `host`, or the VM's kernel (`vm 6.1`), for messages. */
  readonly where: string;
  /** How many times slower than this machine a step runs there (a VM under emulation: ~10). */
  readonly slowdown: number;
  /** Start a process in its own session; resolves once it runs, rejects if it cannot start. */
  spawn(argv: string[], opts?: SpawnOptions): Promise<HostChild>;
  /** Undefined when the file does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  readlink(path: string): Promise<string | undefined>;
  /** Entry names; [] when the directory does not exist. */
  readdir(path: string): Promise<string[]>;
  inode(path: string): Promise<number | undefined>;
  /** Deliver a signal; a process already gone is not an error. */
  kill(pid: number, sig: NodeJS.Signals): Promise<void>;
}

/** Run to the end, feeding `input` on stdin. Never throws on an exit code. */
export async function runOn(
  exec: HostExecutor,
  argv: string[],
  input?: string,
): Promise<HostResult> {
  let child: HostChild;
  try {
    child = await exec.spawn(argv, { input });
  } catch (err) {
    return { code: null, stdout: "", stderr: (err as Error).message };
  }
  let stdout = "";
  let stderr = "";
  child.onData((fd, chunk) => (fd === 1 ? (stdout += chunk) : (stderr += chunk)));
  const code = await child.exited;
  return { code, stdout, stderr };
}

/** Chunks for listeners, kept until the first one attaches. */
export class DataFeed {
  private readonly listeners: Array<(fd: 1 | 2, chunk: Buffer) => void> = [];
  private readonly kept: Array<[1 | 2, Buffer]> = [];

  push(fd: 1 | 2, chunk: Buffer): void {
    if (this.listeners.length === 0) this.kept.push([fd, chunk]);
    for (const l of this.listeners) l(fd, chunk);
  }

  on(listener: (fd: 1 | 2, chunk: Buffer) => void): void {
    this.listeners.push(listener);
    for (const [fd, chunk] of this.kept.splice(0)) listener(fd, chunk);
  }
}

const missing = (err: unknown) =>
  ["ENOENT", "ESRCH", "ENOTDIR"].includes((err as NodeJS.ErrnoException).code ?? "");

/** This machine: today's behaviour of the netns runtime. */
export const localExecutor: HostExecutor = {
  where: "host",
  slowdown: 1,

  spawn(argv, opts = {}) {
    const child = spawnChild(argv[0]!, argv.slice(1), {
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // Its own process group: a Ctrl-C at the terminal reaches the harness, which tears down
      // in order, not the node's processes directly.
      detached: true,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    if (opts.background) child.unref();
    const feed = new DataFeed();
    child.stdout!.on("data", (d: Buffer) => feed.push(1, d));
    child.stderr!.on("data", (d: Buffer) => feed.push(2, d));
    const stderrClosed = new Promise<void>((r) => child.stderr!.on("close", () => r()));
    let ended = false;
    const exited = new Promise<number | null>((resolve) => {
      child.on("error", () => ((ended = true), resolve(null)));
      child.on("close", (code, signal) => {
        ended = true;
        resolve(code ?? (signal ? 128 + constants.signals[signal] : null));
      });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    return new Promise((resolve, reject) => {
      child.once("spawn", () =>
        resolve({
          pid: child.pid!,
          onData: (l) => feed.on(l),
          stderrClosed,
          exited,
          get ended() {
            return ended;
          },
        }),
      );
      child.once("error", (err) => reject(new ExecError(argv, null, err.message, "host")));
    });
  },

  async readFile(path) {
    try {
      return await readFile(path);
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },

  async readlink(path) {
    return readlink(path).catch(() => undefined);
  },

  async readdir(path) {
    try {
      return await readdir(path);
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  },

  async inode(path) {
    return stat(path).then(
      (s) => s.ino,
      () => undefined,
    );
  },

  async kill(pid, sig) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  },
};
