/** The cause `close-wait-leak`: its rule (`closeWaitLeakRule`, reasoned in ../rules-teardown.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { closeWaitLeakRule } from "../rules-teardown.js";
import { defineCause } from "./define.js";

export const closeWaitLeak = defineCause({
  name: "close-wait-leak",
  rule: closeWaitLeakRule,
  counters: [],
  dropReasons: [],
  mitigation: {
    change:
      "make the app close() every connection whose peer closed (read returns 0); " +
      "net.ipv4.tcp_fin_timeout only bounds the peer's orphaned FIN_WAIT2, not CLOSE_WAIT",
    scenario: "close-wait-leak",
    hostSysctls: { client: ["net.ipv4.tcp_fin_timeout"] },
  },
});
