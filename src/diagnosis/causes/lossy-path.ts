/** The cause `lossy-path`: its rule (`lossyPathRule`, reasoned in ../rules-wire.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { lossyPathRule } from "../rules-wire.js";
import { defineCause } from "./define.js";

export const lossyPath = defineCause({
  name: "lossy-path",
  rule: lossyPathRule,
  counters: [],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "find and fix the loss on the path (a link, a full queue, a firewall dropping at random)",
    scenario: "lossy-path",
    hostSysctls: {},
  },
});
