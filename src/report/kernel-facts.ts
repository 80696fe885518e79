/** What a kernel of a matrix has, kept in the report for the kernel diff (kernel-diff.ts). */
import type { KernelInventory } from "../runtime/runtime.js";
import type { KernelFactsSummary } from "../verdict/result.js";

/** Sysctls whose presence tells kernels apart, each with what it means (docs/kernel-behaviour.md). */
export const TELLING_SYSCTLS: Record<string, string> = {
  "net.ipv4.tcp_tw_recycle": "tcp_tw_recycle (removed in 4.12; per namespace only in 4.11)",
  "net.ipv4.tcp_syn_linear_timeouts": "linear SYN retransmits before backoff (6.5+)",
  "net.ipv4.tcp_rto_min_us": "the minimum RTO as a sysctl (6.12+)",
  "net.ipv4.tcp_tw_reuse_delay": "tcp_tw_reuse's delay (6.13+)",
  "net.ipv4.tcp_migrate_req": "request migration between reuseport listeners (5.14+)",
};

export function kernelFactsOf(inv: KernelInventory): KernelFactsSummary {
  return {
    counters: [...inv.counters].sort(),
    sysctls: Object.fromEntries(Object.keys(TELLING_SYSCTLS).map((n) => [n, inv.sysctlExists(n)])),
    ...(inv.noDropReasons ? { noDropReasons: inv.noDropReasons } : {}),
    qdiscs: [...inv.qdiscs].sort(),
  };
}
