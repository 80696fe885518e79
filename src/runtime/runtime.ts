import type { DropReasons } from "../model/evidence.js";

/**
 * The one interface between the harness and whatever gives it isolated network stacks.
 * Docker today; network namespaces and VMs later. Nothing above this file imports dockerode.
 */

export interface NetworkPlan {
  /** Scenario-level name (`lan`). */
  name: string;
  /**
   * Addresses it gets: an IPv4 /24 from the pool, an IPv6 /64 from the IPv6 pool, or both.
   * @default "ipv4"
   */
  family?: "ipv4" | "ipv6" | "dual";
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
  /** Build the image from a Dockerfile context instead (`Runtime.images` sets `image`). */
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  /** Debian packages on top of tcprepro's image (`Runtime.images` sets `image`). */
  packages?: string[];
  /** An existing container (id or name) to join to the networks instead of creating one. */
  container?: string;
}

export interface TopologyPlan {
  runId: string;
  networks: NetworkPlan[];
  nodes: NodePlan[];
  /**
   * Sysctls of the whole kernel (its initial namespace: `net.ipv4.neigh.default.gc_thresh3`),
   * from `kernelSysctls:`. Only a runtime that owns its kernel (`capabilities.ownsKernel`) gets a
   * plan with them: it sets them for this topology alone and restores them at its teardown.
   */
  kernelSysctls?: Record<string, string>;
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
  /** IPv4 address on each network it is attached to that carries IPv4. */
  readonly addresses: Record<string, string>;
  /** IPv6 address on each network it is attached to that carries IPv6 (absent: none). */
  readonly addresses6?: Record<string, string>;
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
  /**
   * What the node's main process (a user's image or command) wrote, its last `tailLines` lines
   * (all when omitted), and whether it still runs. Runtimes without user images leave it out.
   */
  output?(tailLines?: number): Promise<NodeOutput>;
}

export interface NodeOutput {
  running: boolean;
  /** Exit code once it has stopped. */
  exitCode: number | null;
  /** stdout and stderr interleaved as written. */
  logs: string;
}

export interface StartedTopology extends AsyncDisposable {
  readonly runId: string;
  readonly nodes: ReadonlyMap<string, StartedNode>;
  /** IPv4 subnet (CIDR) of each network that carries IPv4. */
  readonly subnets: Readonly<Record<string, string>>;
  /** IPv6 subnet (a /64) of each network that carries IPv6. */
  readonly subnets6?: Readonly<Record<string, string>>;
  /** Remove everything of this run. Safe to call twice and after a partial start. */
  down(): Promise<void>;
}

/** What a clean (or a run's removal) took away. */
export interface CleanResult {
  /** Nodes: containers, namespaces, VMs. */
  nodes: number;
  networks: number;
  /** Anything else a run leaves behind (trace instances, …). */
  other: number;
}

/** What a runtime's nodes run on: the kernel under test, not necessarily the host's. */
export interface KernelInventory {
  release: string;
  sysctlExists(name: string): boolean;
  /**
   * Whether a node (its own network namespace) has it; undefined when every sysctl that exists
   * does. Older kernels keep some net.* knobs in the initial namespace only (4.11:
   * tcp_abort_on_overflow), where a node cannot set them.
   */
  sysctlPerNetns?(name: string): boolean;
  /** Counter names this kernel exposes (TcpExt…, Tcp…, NfConntrack…). */
  counters: ReadonlySet<string>;
  /** Queueing disciplines the kernel can load (netem, …). */
  qdiscs: ReadonlySet<string>;
  /**
   * Why this kernel cannot give drop reasons although the runtime traces them (skb:kfree_skb
   * has a `reason` only since 5.17); undefined when it can.
   */
  noDropReasons?: string;
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
  /**
   * CPUs its nodes run on when they are not this machine's (a VM's emulated vCPUs): `--parallel
   * auto` then runs two light variants per CPU. Absent: this machine's cores, two per core.
   */
  cpus?: number;
  /**
   * Variants `--parallel auto` runs at once when the runtime knows better than its CPUs (a VM
   * that shares this machine's cores with other VMs). Absent: two per CPU.
   */
  autoParallel?: number;
  /**
   * How often the timeline samples every node's counters and sockets, ms. Absent: every 100 ms.
   * A VM's nodes are read through its agent, and each read costs its emulated vCPU.
   */
  sampleEveryMs?: number;
  /**
   * Networks that carry IPv6 (`family: ipv6|dual`); when it cannot, why not (a SKIP reason).
   * Absent: it can.
   */
  ipv6?: true | { reason: string };
}

/**
 * A runtime says what it can do (`capabilities`) and what kernel its nodes run on (`inventory`);
 * nothing above src/runtime/ asks for its name, which is for reports and messages only.
 */
export interface Runtime {
  readonly name: string;
  readonly capabilities: RuntimeCapabilities;
  /** The inventory of the kernel the nodes run on (read once, cached). */
  inventory(): Promise<KernelInventory>;
  /**
   * Trace drop reasons on the nodes' kernel when it is not this host's (a VM's): a tracer to
   * stop after the variant, or why not. Absent: the host's tracer applies.
   */
  traceDrops?(runId: string, ipv6?: boolean): Promise<{ stop(): Promise<DropReasons> } | string>;
  /**
   * Lifecycle: opened (constructed by its registry entry) → `prepare` (the engine answers, the
   * images exist, a VM has booted) → `up`/`remove` any number of times → `close` (a VM powered
   * off). `up` comes after `prepare`, and so may `inventory` (a VM's kernel is
   * known once it has booted).
   */
  prepare(progress: (message: string) => void): Promise<void>;
  /** Release what `prepare` acquired; safe to call twice and without `prepare`. */
  close(): Promise<void>;
  /**
   * Make the images of nodes with `build` or `packages` (cached by content) and return the plan
   * with their `image` set. Runtimes without container images leave it out.
   */
  images?(plan: TopologyPlan, progress: (message: string) => void): Promise<TopologyPlan>;
  up(plan: TopologyPlan): Promise<StartedTopology>;
  /** Remove everything labelled with this run id (used when a run is interrupted mid-`up`). */
  remove(runId: string): Promise<void>;
  /** Remove what runs left behind: those whose process is gone, or every run with `all`. */
  clean(options: { all: boolean }): Promise<CleanResult>;
  /**
   * The host command that runs a program in a node of a started topology (`docker exec …`),
   * for a person to paste (`lab up` prints it); absent when the host cannot reach its nodes.
   */
  execCommand?(runId: string, node: string, interactive: boolean): string[];
}

/** Labels every object a run creates carries. */
export const LABEL = "tcprepro";
export const LABEL_RUN = "tcprepro.run";
export const LABEL_PID = "tcprepro.pid";
export const LABEL_HOST = "tcprepro.host";
/** On a lab's objects (`tcprepro lab up`): left standing by `clean`, removed by `lab down`. */
export const LABEL_LAB = "tcprepro.lab";
