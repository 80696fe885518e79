/** What one variant's run produced: the public JSON contract's per-variant object. */
import type {
  DropReasons,
  PacketEvidence,
  Timeline,
  Attempt,
  ClientSummary,
  ListenQueueEvidence,
  SocketEvidence,
} from "./evidence.js";
import type { CauseName } from "./causes.js";

export type VerdictKind = "pass" | "fail" | "skip" | "error";

export interface ExpectationResult {
  /** `counters.server.TcpExtListenOverflows`, `clients.timedOut`, `cause`, … */
  path: string;
  expected: string;
  actual: number | string | null;
  ok: boolean;
  /** Where the expectation was written: `scenarios/x.yaml:31`. */
  source?: string;
}

export interface CauseResult {
  /**
   * A name of the vocabulary (CAUSE_NAMES) when this version wrote it; a string, because a
   * report read back (merge, compare) may come from another version.
   */
  cause: CauseName | (string & {});
  node: string;
  because: string;
  numbers: Record<string, number>;
}

export interface NodeReport {
  /** Counter deltas that moved (zero deltas are left out). */
  counters: Record<string, number>;
  listen?: ListenQueueEvidence;
  packets?: PacketEvidence;
  sockets?: SocketEvidence;
  /** Where the node's capture was saved. */
  capture?: string;
}

export interface VariantResult {
  variant: string;
  /** The kernel it ran on, in a kernel matrix (`6.1`, `7.2`, `host`); see RunReport.kernels. */
  kernel?: string;
  /**
   * The address family its traffic used: ipv6, or dual when it used both (`run --family ipv6`,
   * `family:` in the scenario). Absent: ipv4.
   */
  family?: "ipv4" | "ipv6" | "dual";
  /** A dual variant's client outcomes per family (`clients` sums both). */
  clientsByFamily?: { ipv4: ClientSummary; ipv6: ClientSummary };
  verdict: VerdictKind;
  /** Why: the failed expectations, the skip reason, or the error. */
  reason: string;
  durationMs: number;
  /** Time to bring the topology up, and to take it down. */
  upMs?: number;
  downMs?: number;
  /** The part of durationMs the scenario asks for: traffic, faults and settle. The rest is overhead. */
  timelineMs?: number;
  nodes: Record<string, NodeReport>;
  clients: ClientSummary;
  /** Counters and listen queue sampled every 100 ms, with the faults as applied. */
  timeline?: Timeline;
  /** Every connection attempt, by start time (ms from the traffic's t = 0). */
  attempts: Attempt[];
  expectations: ExpectationResult[];
  /**
   * True on a pass that checked nothing: the scenario has no `expect`. Reports say so (JUnit
   * marks it skipped), so that a CI gate is never green on an empty scenario.
   */
  nothingChecked?: true;
  causes: CauseResult[];
  /** What the diagnosis could not check (counters this kernel lacks, …). */
  unchecked: string[];
  /** The kernel's skb drop reasons while the variant ran (see src/evidence/drop-reasons.ts). */
  dropReasons?: DropReasons;
  /** With --repeat: how many runs there were and how many gave the same verdict. */
  repeat?: RepeatSummary;
}

/** One of the runs of a repeated variant, enough to tell what differed. */
export interface RepeatRun {
  /** 1-based, in the order the runs were made. */
  run: number;
  verdict: VerdictKind;
  reason: string;
  /** The expectations this run did not meet. */
  failed: ExpectationResult[];
  causes: { cause: string; node: string; because: string }[];
}

export interface RepeatSummary {
  runs: number;
  agreed: number;
  verdicts: Partial<Record<VerdictKind, number>>;
  /** Every run's verdict, failed expectations and causes. */
  each: RepeatRun[];
}

export interface ScenarioResult {
  name: string;
  file: string;
  summary: string;
  variants: VariantResult[];
}

export interface RunReport {
  tool: { name: "tcprepro"; version: string };
  kernel: string;
  runtime: string;
  startedAt: string;
  durationMs: number;
  /** A kernel matrix: each kernel label's release and runtime. */
  kernels?: Record<string, { release: string; runtime: string; facts?: KernelFactsSummary }>;
  scenarios: ScenarioResult[];
  /** `--sweep`: per scenario (and kernel) the failure against each value, and the threshold. */
  sweeps?: SweepSummary[];
}

/** One value of a `--sweep`: how its variant went. */
export interface SweepPoint {
  value: unknown;
  variant: string;
  verdict: string;
  /** Client attempts that did not connect. */
  failed: number;
  attempts: number;
  /** The cause's counter, summed over the nodes (undefined: the cause has none). */
  counter?: number;
  /** Ran healthy: the variant passed (it expects cause none). */
  healthy: boolean;
}

export interface SweepSummary {
  scenario: string;
  kernel?: string;
  path: string;
  cause: string;
  counter?: string;
  points: SweepPoint[];
  /** The smallest value from which on every value ran healthy; absent: none did. */
  threshold?: unknown;
}

/**
 * What a kernel of a matrix has, from its runtime's inventory: what the kernel diff compares
 * (a counter one kernel lacks is absent there, not 0).
 */
export interface KernelFactsSummary {
  /** Every counter name it exposes, sorted. */
  counters: string[];
  /** The sysctls whose presence tells kernels apart (tcp_tw_recycle, …): exists or not. */
  sysctls: Record<string, boolean>;
  /** Why it gives no drop reasons; absent when it does. */
  noDropReasons?: string;
  qdiscs: string[];
}

/** What reports print for a pass that checked nothing. */
export const NOTHING_CHECKED = "nothing was checked: the scenario has no expect";
