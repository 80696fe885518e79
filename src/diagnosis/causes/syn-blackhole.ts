/** The cause `syn-blackhole`: its rule (`synBlackholeRule`, reasoned in ../rules-path.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { synBlackholeRule } from "../rules-path.js";
import { defineCause } from "./define.js";

export const synBlackhole = defineCause({
  name: "syn-blackhole",
  rule: synBlackholeRule,
  counters: [],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "find what drops the SYNs on the path (a firewall, a security group, rp_filter); lower " +
      "net.ipv4.tcp_syn_retries to fail fast meanwhile",
    scenario: "syn-blackhole",
    hostSysctls: { client: ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_syn_linear_timeouts"] },
  },
});
