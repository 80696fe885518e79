/** The cause `keepalive-dead-peer`: its rule (`idleHangRule`, reasoned in ../rules-teardown.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { idleHangRule } from "../rules-teardown.js";
import { defineCause } from "./define.js";

export const keepaliveDeadPeer = defineCause({
  name: "keepalive-dead-peer",
  rule: idleHangRule,
  counters: [],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "turn SO_KEEPALIVE on with short timers (TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, or " +
      "net.ipv4.tcp_keepalive_time/_intvl/_probes): a vanished peer is then found dead",
    scenario: "keepalive-dead-peer",
    hostSysctls: {
      client: [
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
      ],
    },
  },
});
