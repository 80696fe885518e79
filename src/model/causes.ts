/**
 * The vocabulary of a diagnosis: every cause a rule can name, in the order reports list them
 * (docs/kernel-behaviour.md#failure-modes). Each cause but \`none\` and \`unexplained\` is a module
 * in src/diagnosis/causes/. Part of the public types: imports nothing.
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
