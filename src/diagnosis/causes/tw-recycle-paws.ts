/** The cause `tw-recycle-paws`: its rule (`twRecycleRule`, reasoned in ../rules-path.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { twRecycleRule } from "../rules-path.js";
import { defineCause } from "./define.js";

export const twRecyclePaws = defineCause({
  name: "tw-recycle-paws",
  rule: twRecycleRule,
  counters: ["TcpExtPAWSPassive"],
  dropReasons: ["TCP_RFC7323_PAWS"],
  mitigation: {
    change: "set net.ipv4.tcp_tw_recycle=0 (removed in Linux 4.12)",
    scenario: "tw-recycle-nat",
    hostSysctls: { server: ["net.ipv4.tcp_timestamps"] },
  },
});
