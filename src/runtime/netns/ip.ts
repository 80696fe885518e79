/**
 * Host-side plumbing of the netns runtime: running `ip` (batched, one process for many links),
 * naming a run's namespaces, and finding the processes inside them from /proc rather than with
 * one `ip netns pids` fork per namespace.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { ExecError } from "../../util/errors.js";

/** Where `ip netns add` keeps its namespace files (bind mounts of /proc/<pid>/ns/net). */
export const NETNS_DIR = "/run/netns";
export const PREFIX = "tcprepro-";

/** `tcprepro-<runId>-<node with . → ->`: one per node. */
export function nodeNamespace(runId: string, node: string): string {
  return `${PREFIX}${runId}-${node.replaceAll(".", "-")}`;
}

/** The run's switch: one bridge per network, and the far end of every veth. */
export function switchNamespace(runId: string): string {
  return `${PREFIX}${runId}-sw`;
}

export interface HostResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a host command to its end, optionally feeding `input` on stdin. Never throws on exit code. */
export function runHost(argv: string[], input?: string): Promise<HostResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => resolve({ code: null, stdout, stderr: stderr + err.message }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * `ip [-n ns] -batch -`: many commands in one process (one fork instead of dozens — the bulk of
 * the 300 ms budget would otherwise go to process start-up). Throws ExecError on the first
 * failing line unless `force` (teardown: carry on past what is already gone).
 */
export async function ipBatch(
  lines: string[],
  opts: { netns?: string; force?: boolean } = {},
): Promise<void> {
  if (lines.length === 0) return;
  const argv = [
    "ip",
    ...(opts.netns ? ["-n", opts.netns] : []),
    ...(opts.force ? ["-force"] : []),
    "-batch",
    "-",
  ];
  const r = await runHost(argv, lines.join("\n") + "\n");
  if (r.code !== 0 && !opts.force)
    throw new ExecError([...argv, `<<${lines.length} commands>>`], r.code, r.stderr, "host");
}

/** Every namespace file of ours: `tcprepro-*` under /run/netns. */
export async function listNamespaces(): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((n) => n.startsWith(PREFIX));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** Inode of a named namespace, the identity /proc/<pid>/ns/net is compared against. */
export async function namespaceInode(name: string): Promise<number | undefined> {
  try {
    return (await stat(`${NETNS_DIR}/${name}`)).ino;
  } catch {
    return undefined;
  }
}

/**
 * PIDs of every process whose network namespace is one of `names` — what `ip netns pids` does,
 * for all of them in one pass over /proc.
 */
export async function pidsIn(names: string[]): Promise<number[]> {
  const inodes = new Set(
    (await Promise.all(names.map(namespaceInode))).filter((i): i is number => i !== undefined),
  );
  if (inodes.size === 0) return [];
  const entries = (await readdir("/proc")).filter((e) => /^\d+$/.test(e));
  const hits = await Promise.all(
    entries.map(async (e) => {
      try {
        return inodes.has((await stat(`/proc/${e}/ns/net`)).ino) ? Number(e) : undefined;
      } catch {
        return undefined; // gone meanwhile
      }
    }),
  );
  return hits.filter((p): p is number => p !== undefined && p !== process.pid);
}

/** Single-letter state of a process (`R`, `S`, `T` stopped, `Z` zombie); undefined once gone. */
export async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

export function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}
