/** The cause `accept-queue-overflow`: its rule (`acceptQueueRules`, reasoned in ../rules-listen.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { acceptQueueRules } from "../rules-listen.js";
import { defineCause } from "./define.js";

export const acceptQueueOverflow = defineCause({
  name: "accept-queue-overflow",
  rule: acceptQueueRules,
  counters: ["TcpExtListenOverflows", "TcpExtListenDrops"],
  dropReasons: ["TCP_LISTEN_OVERFLOW"],
  mitigation: {
    change:
      "make the app accept faster, and raise its listen() backlog and net.core.somaxconn " +
      "together (the queue is the smaller of the two; somaxconn-caps-backlog shows raising one alone)",
    scenario: "accept-queue-overflow",
    hostSysctls: {
      server: [
        "net.core.somaxconn",
        "net.ipv4.tcp_max_syn_backlog",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_abort_on_overflow",
        "net.ipv4.tcp_synack_retries",
      ],
      client: ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_syn_linear_timeouts"],
    },
  },
});
