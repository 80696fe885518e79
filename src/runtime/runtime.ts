import type { DropReasons } from "../evidence/drop-reasons.js";

/**
 * The one interface between the harness and whatever gives it isolated network stacks.
 * Docker today; network namespaces and VMs later. Nothing above this file imports dockerode.
 */

export interface NetworkPlan {
  /** Scenario-level name (`lan`). */
  name: string;
}

export interface NodePlan {
  /** Instance name, replicas expanded: `client.1`. */
  name: string;
  networks: string[];
  /** Applied at creation in the node's own namespace; the host's are never touched. */
  sysctls: Record<string, string>;
  /** A user's own image and command; absent: tcprepro's image running the agent's `hold`. */
  image?: string;
  command?: string[];
}

export interface TopologyPlan {
  runId: string;
  networks: NetworkPlan[];
  nodes: NodePlan[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A long-running process inside a node (the built-in app, a traffic generator). */
export interface NodeProcess {
  /** Called for every complete stdout line. */
  onLine(listener: (line: string) => void): void;
  /** Resolves with the exit code once the process has ended and its output is drained. */
  readonly exited: Promise<number | null>;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** Deliver a signal (SIGSTOP, SIGCONT, SIGKILL, …) to the process. */
  signal(sig: NodeJS.Signals): Promise<void>;
}

export interface StartedNode {
  readonly name: string;
  /** Address on each network it is attached to. */
  readonly addresses: Record<string, string>;
  /** Run a command to completion; throws ExecError on a non-zero exit. */
  exec(argv: string[], timeoutMs?: number): Promise<ExecResult>;
  spawn(argv: string[]): Promise<NodeProcess>;
  /**
   * Read a file under the node's /proc/net (`netstat`, `snmp`, `tcp`, `stat/nf_conntrack`) as
   * seen from its own network namespace. Undefined when the kernel has no such file.
   */
  readProcNet(file: string): Promise<string | undefined>;
  /** A file of the node's own filesystem (a capture); undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
}

export interface StartedTopology extends AsyncDisposable {
  readonly runId: string;
  readonly nodes: ReadonlyMap<string, StartedNode>;
  /** Subnet (CIDR) of each network. */
  readonly subnets: Readonly<Record<string, string>>;
  /** Remove everything of this run. Safe to call twice and after a partial start. */
  down(): Promise<void>;
}

export interface CleanResult {
  containers: number;
  networks: number;
}

/** What a runtime's nodes run on: the kernel under test, not necessarily the host's. */
export interface KernelInventory {
  release: string;
  sysctlExists(name: string): boolean;
  /** Counter names this kernel exposes (TcpExt…, Tcp…, NfConntrack…). */
  counters: ReadonlySet<string>;
  /** Queueing disciplines the kernel can load (netem, …). */
  qdiscs: ReadonlySet<string>;
}

export interface RuntimeCapabilities {
  /** Runs nodes from a user's own container image (`image:`); when false, why not (a SKIP reason). */
  userImages: true | { reason: string };
  /** How `pause` freezes a node: the cgroup freezer, or SIGSTOP of the node's processes. */
  pause: "freeze" | "sigstop";
  /** Drop reasons (skb:kfree_skb) can be traced on the nodes' kernel. */
  dropReasons: boolean;
  /** The whole kernel belongs to the run, so kernel-global knobs (neigh gc_thresh) may be set. */
  ownsKernel: boolean;
  /** Variants that can run at once. */
  maxParallel: number;
}

export interface Runtime {
  readonly name: string;
  readonly capabilities: RuntimeCapabilities;
  /** The inventory of the kernel the nodes run on (read once, cached). */
  inventory(): Promise<KernelInventory>;
  /** Kernel release the nodes run on. */
  kernel(): Promise<string>;
  /**
   * Trace drop reasons on the nodes' kernel when it is not this host's (a VM's): a tracer to
   * stop after the variant, or why not. Absent: the host's tracer applies.
   */
  traceDrops?(runId: string): Promise<{ stop(): Promise<DropReasons> } | string>;
  /** Make sure the engine answers and the images exist (building them when missing). */
  prepare(progress: (message: string) => void): Promise<void>;
  up(plan: TopologyPlan): Promise<StartedTopology>;
  /** Remove everything labelled with this run id (used when a run is interrupted mid-`up`). */
  remove(runId: string): Promise<void>;
  /** Remove what runs left behind: those whose process is gone, or every run with `all`. */
  clean(options: { all: boolean }): Promise<CleanResult>;
}

/** Labels every object a run creates carries. */
export const LABEL = "tcprepro";
export const LABEL_RUN = "tcprepro.run";
export const LABEL_PID = "tcprepro.pid";
export const LABEL_HOST = "tcprepro.host";
/** On a lab's objects (`tcprepro lab up`): left standing by `clean`, removed by `lab down`. */
export const LABEL_LAB = "tcprepro.lab";
