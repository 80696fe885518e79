/** The cause `port-exhaustion`: its rule (`portExhaustionRule`, reasoned in ../rules-reset.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { portExhaustionRule } from "../rules-reset.js";
import { defineCause } from "./define.js";

export const portExhaustion = defineCause({
  name: "port-exhaustion",
  rule: portExhaustionRule,
  counters: [],
  dropReasons: [],
  mitigation: {
    change:
      "widen net.ipv4.ip_local_port_range, set net.ipv4.tcp_tw_reuse=1 on the connecting side, " +
      "or reuse connections (keep-alive, pooling)",
    scenario: "port-exhaustion",
    hostSysctls: { client: ["net.ipv4.tcp_tw_reuse"] },
  },
});
