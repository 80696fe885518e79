/** The cause `udp-local-firewall`: its rule (`udpFirewallRule`, reasoned in ../rules-wire.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { udpFirewallRule } from "../rules-wire.js";
import { defineCause } from "./define.js";

export const udpLocalFirewall = defineCause({
  name: "udp-local-firewall",
  rule: udpFirewallRule,
  counters: [],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change: "remove or narrow the OUTPUT rule that drops the datagrams (sendto() says EPERM)",
    scenario: "udp-local-firewall",
    hostSysctls: {},
  },
});
