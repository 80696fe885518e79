/** The cause `timewait-paws`: its rule (`timewaitPawsRule`, reasoned in ../rules-path.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { timewaitPawsRule } from "../rules-path.js";
import { defineCause } from "./define.js";

export const timewaitPaws = defineCause({
  name: "timewait-paws",
  rule: timewaitPawsRule,
  counters: ["TcpExtPAWSTimewait"],
  dropReasons: ["TCP_RFC7323_TW_PAWS"],
  mitigation: {
    change:
      "keep TCP timestamps consistent per client (no rewriting middlebox), or do not reuse a " +
      "TIME_WAIT 4-tuple so fast (net.ipv4.tcp_tw_reuse on the client)",
    hostSysctls: {},
  },
});
