/** conntrack-table-full: named from a host snapshot (rules-snapshot.ts): nf_conntrack_count near its max. */
import { defineCause } from "./define.js";

export const conntrackTableFull = defineCause({
  name: "conntrack-table-full",
  counters: [],
  dropReasons: [],
  mitigation: {
    change:
      "raise net.netfilter.nf_conntrack_max (and the hash size), shorten " +
      "nf_conntrack_tcp_timeout_time_wait, or exempt the traffic from tracking (NOTRACK)",
    hostSysctls: {},
  },
});
