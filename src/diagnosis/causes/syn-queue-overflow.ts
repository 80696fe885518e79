/** The cause `syn-queue-overflow`: its rule (`synQueueRule`, reasoned in ../rules-listen.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { synQueueRule } from "../rules-listen.js";
import { defineCause } from "./define.js";

export const synQueueOverflow = defineCause({
  name: "syn-queue-overflow",
  rule: synQueueRule,
  counters: ["TcpExtTCPReqQFullDrop", "TcpExtTCPReqQFullDoCookies", "TcpExtSyncookiesSent"],
  dropReasons: [],
  mitigation: {
    change:
      "set net.ipv4.tcp_syncookies=1 and raise net.ipv4.tcp_max_syn_backlog (and the app's backlog)",
    scenario: "syn-flood",
    hostSysctls: { server: ["net.ipv4.tcp_max_syn_backlog", "net.core.somaxconn"] },
  },
});
