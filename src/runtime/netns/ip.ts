/**
 * Host-side plumbing of the netns runtime: running `ip` (batched, one process for many links),
 * naming a run's namespaces, and finding the processes inside them from /proc rather than with
 * one `ip netns pids` fork per namespace.
 */
import { ExecError } from "../../util/errors.js";
import { type HostExecutor, runOn } from "./host.js";

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

/**
 * `ip [-n ns] -batch -`: many commands in one process (one fork instead of dozens — the bulk of
 * the 300 ms budget would otherwise go to process start-up). Throws ExecError on the first
 * failing line unless `force` (teardown: carry on past what is already gone).
 */
export async function ipBatch(
  exec: HostExecutor,
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
  const r = await runOn(exec, argv, lines.join("\n") + "\n");
  if (r.code !== 0 && !opts.force)
    throw new ExecError([...argv, `<<${lines.length} commands>>`], r.code, r.stderr, exec.where);
}

/** Every namespace file of ours: `tcprepro-*` under /run/netns. */
export async function listNamespaces(exec: HostExecutor): Promise<string[]> {
  return (await exec.readdir(NETNS_DIR)).filter((n) => n.startsWith(PREFIX));
}

/** Inode of a named namespace, the identity /proc/<pid>/ns/net is compared against. */
export function namespaceInode(exec: HostExecutor, name: string): Promise<number | undefined> {
  return exec.inode(`${NETNS_DIR}/${name}`);
}

/**
 * PIDs of every process whose network namespace is one of `names` — what `ip netns pids` does,
 * for all of them in one pass over /proc.
 */
export async function pidsIn(exec: HostExecutor, names: string[]): Promise<number[]> {
  const inodes = new Set(
    (await Promise.all(names.map((n) => namespaceInode(exec, n)))).filter(
      (i): i is number => i !== undefined,
    ),
  );
  if (inodes.size === 0) return [];
  const entries = (await exec.readdir("/proc")).filter((e) => /^\d+$/.test(e));
  const hits = await Promise.all(
    entries.map(async (e) => {
      const ino = await exec.inode(`/proc/${e}/ns/net`); // undefined: gone meanwhile
      return ino !== undefined && inodes.has(ino) ? Number(e) : undefined;
    }),
  );
  return hits.filter((p): p is number => p !== undefined && p !== process.pid);
}

/** Single-letter state of a process (`R`, `S`, `T` stopped, `Z` zombie); undefined once gone. */
export async function processState(exec: HostExecutor, pid: number): Promise<string | undefined> {
  const stat = (await exec.readFile(`/proc/${pid}/stat`))?.toString();
  if (stat === undefined) return undefined;
  // The command name is in parentheses and may itself contain spaces or parentheses.
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

export async function signalAll(
  exec: HostExecutor,
  pids: number[],
  sig: NodeJS.Signals,
): Promise<void> {
  await Promise.all(pids.map((pid) => exec.kill(pid, sig)));
}
