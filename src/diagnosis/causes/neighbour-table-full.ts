/** The cause `neighbour-table-full`: its rule (`neighbourTableRule`, reasoned in ../rules-wire.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { neighbourTableRule } from "../rules-wire.js";
import { defineCause } from "./define.js";

export const neighbourTableFull = defineCause({
  name: "neighbour-table-full",
  rule: neighbourTableRule,
  counters: ["ArpCacheTableFulls"],
  dropReasons: ["NEIGH_CREATEFAIL"],
  mitigation: {
    change:
      "raise net.ipv4.neigh.default.gc_thresh1/2/3 (kernel-wide) above the number of neighbours",
    scenario: "neighbour-table-full",
    hostSysctls: {},
  },
});
