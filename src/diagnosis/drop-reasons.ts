/**
 * The kernel's own drop reasons (skb:kfree_skb, when the runtime could trace them) behind a
 * cause: which reasons support which cause, and the cause with those it saw added.
 */
import type { Cause } from "./causes.js";

/** Which drop reasons support which cause. */
const REASONS_FOR_CAUSE: Record<string, string[]> = {
  "accept-queue-overflow": ["TCP_LISTEN_OVERFLOW"],
  "abort-on-overflow": ["TCP_LISTEN_OVERFLOW"],
  "syn-blackhole": ["NETFILTER_DROP"],
  "local-firewall": ["NETFILTER_DROP"],
  "retransmit-timeout": ["NETFILTER_DROP"],
  "snat-conntrack-collision": ["NETFILTER_DROP"],
  "timewait-paws": ["TCP_RFC7323_TW_PAWS"],
  "tw-recycle-paws": ["TCP_RFC7323_PAWS"],
  "no-listener": ["NO_SOCKET"],
  "keepalive-dead-peer": ["NETFILTER_DROP"],
  "lossy-path": ["NETFILTER_DROP"],
  "udp-local-firewall": ["NETFILTER_DROP"],
  "neighbour-table-full": ["NEIGH_CREATEFAIL"],
  "conntrack-table-full": ["NETFILTER_DROP"],
};

/** The cause, its `because` and `numbers` extended with the supporting reasons that were counted. */
export function withDropReasons(c: Cause, drops: Record<string, number> | null): Cause {
  const reasons = (REASONS_FOR_CAUSE[c.cause] ?? []).filter((r) => (drops?.[r] ?? 0) > 0);
  if (reasons.length === 0) return c;
  return {
    ...c,
    because: `${c.because}; kernel drop reasons: ${reasons.map((r) => `${r} ×${drops![r]}`).join(", ")}`,
    numbers: { ...c.numbers, ...Object.fromEntries(reasons.map((r) => [`drop.${r}`, drops![r]!])) },
  };
}
