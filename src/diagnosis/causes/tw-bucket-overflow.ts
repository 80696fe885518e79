/** The cause `tw-bucket-overflow`: its rule (`twBucketOverflowRule`, reasoned in ../rules-teardown.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { twBucketOverflowRule } from "../rules-teardown.js";
import { defineCause } from "./define.js";

export const twBucketOverflow = defineCause({
  name: "tw-bucket-overflow",
  rule: twBucketOverflowRule,
  counters: ["TcpExtTCPTimeWaitOverflow"],
  dropReasons: [],
  mitigation: {
    change: "raise net.ipv4.tcp_max_tw_buckets (per network namespace)",
    scenario: "tw-bucket-overflow",
    hostSysctls: { server: ["net.ipv4.tcp_max_tw_buckets"] },
  },
});
