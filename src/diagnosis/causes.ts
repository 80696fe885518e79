/**
 * The vocabulary of a diagnosis: the causes the rules can name (docs/kernel-behaviour.md#failure-modes) and the
 * shape of what `diagnose` returns.
 */

/** Every cause a rule can name, in the order of the cause table. */
export const CAUSE_NAMES = [
  "accept-queue-overflow",
  "abort-on-overflow",
  "syn-queue-overflow",
  "syn-flood-cookies",
  "tw-recycle-paws",
  "snat-conntrack-collision",
  "timewait-paws",
  "syn-blackhole",
  "local-firewall",
  "no-listener",
  "active-reset",
  "port-exhaustion",
  "retransmit-timeout",
  "close-wait-leak",
  "keepalive-dead-peer",
  "delayed-ack-nagle",
  "lossy-path",
  "tw-bucket-overflow",
  "neighbour-table-full",
  "udp-local-firewall",
  /** The conntrack table near its max (from a host snapshot: nf_conntrack_count vs _max). */
  "conntrack-table-full",
  /** Healthy: nothing abnormal and every client attempt connected. */
  "none",
  /** Failures or abnormal counters that fit no rule: reported with their numbers, never guessed. */
  "unexplained",
] as const;

export type CauseName = (typeof CAUSE_NAMES)[number];

export function isCauseName(s: string): s is CauseName {
  return (CAUSE_NAMES as readonly string[]).includes(s);
}

/**
 * strong: the key counter moved well past noise, or moved and something independent agrees
 * (the clients' errors, the listen queue). weak: it moved, but nothing else confirms it.
 */
export type Confidence = "strong" | "weak";

export interface Cause {
  cause: CauseName;
  /** Where the evidence was: a node, or a replica group (`client` for client.1, client.2, …). */
  node: string;
  confidence: Confidence;
  /** One sentence for a human, with the numbers: "server: TcpExtListenOverflows +45, …". */
  because: string;
  /** The numbers behind `because`: counter deltas by counter name, derived values by our name. */
  numbers: Record<string, number>;
}

export interface Diagnosis {
  /** Strong before weak, each in cause-table order; `none` or `unexplained` last. */
  causes: Cause[];
  /** What could not be checked, and why (a counter this kernel lacks, evidence not given). */
  unchecked: string[];
}
