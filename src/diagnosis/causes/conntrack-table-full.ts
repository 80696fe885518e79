/**
 * The cause `conntrack-table-full`: its rule (`conntrackTableFullRule`, in ../rules-conntrack.ts;
 * from a host snapshot, ../rules-snapshot.ts reads nf_conntrack_count against its max), counters,
 * drop reasons and what to try. Told apart from snat-conntrack-collision by insert_failed: a
 * full table drops new flows before any insert is tried.
 */
import { conntrackTableFullRule } from "../rules-conntrack.js";
import { defineCause } from "./define.js";

export const conntrackTableFull = defineCause({
  name: "conntrack-table-full",
  rule: conntrackTableFullRule,
  counters: ["NfConntrackEarlyDrop"],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "raise net.netfilter.nf_conntrack_max (kernel-wide) and the hash size with it " +
      "(/sys/module/nf_conntrack/parameters/hashsize, or net.netfilter.nf_conntrack_buckets), " +
      "shorten the timeouts of idle flows (nf_conntrack_tcp_timeout_established, _time_wait), " +
      "or exempt traffic that needs no tracking (NOTRACK)",
    scenario: "conntrack-table-full",
    // A kernel-wide knob: `scenario new` sets it under kernelSysctls, not a node's.
    hostSysctls: {},
  },
});
