/** The cause `snat-conntrack-collision`: its rule (`snatCollisionRule`, reasoned in ../rules-path.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { snatCollisionRule } from "../rules-path.js";
import { defineCause } from "./define.js";

export const snatConntrackCollision = defineCause({
  name: "snat-conntrack-collision",
  rule: snatCollisionRule,
  counters: ["NfConntrackInsertFailed", "NfConntrackDrop"],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "give the gateway's SNAT a wider port range, or --random-fully; spread clients over more source addresses",
    scenario: "snat-port-reuse",
    hostSysctls: {},
  },
});
