/** retransmit-timeout: keepalive aborts first (a safeguard doing its job, said in `none`), then the aborts left over. */
import { keepaliveAbortRule } from "../rules-teardown.js";
import { retransmitTimeoutRule } from "../rules-reset.js";
import { defineCause } from "./define.js";

export const retransmitTimeout = defineCause({
  name: "retransmit-timeout",
  rule: (ctx) => {
    keepaliveAbortRule(ctx);
    retransmitTimeoutRule(ctx);
  },
  counters: ["TcpExtTCPAbortOnTimeout"],
  dropReasons: ["NETFILTER_DROP"],
  mitigation: {
    change:
      "find the loss on the path; lower net.ipv4.tcp_retries2 to fail dead peers sooner, or use TCP keepalive/user timeouts",
    scenario: "retransmit-timeout",
    hostSysctls: { client: ["net.ipv4.tcp_retries2"] },
  },
});
