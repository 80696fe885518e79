/** The cause `local-firewall`: its rule (`localFirewallRule`, reasoned in ../rules-path.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { localFirewallRule } from "../rules-path.js";
import { defineCause } from "./define.js";

export const localFirewall = defineCause({
  name: "local-firewall",
  rule: localFirewallRule,
  counters: ["TcpExtTCPRetransFail"],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change: "remove or narrow the local iptables/nftables rule that drops or rejects the traffic",
    scenario: "client-firewall",
    hostSysctls: {},
  },
});
