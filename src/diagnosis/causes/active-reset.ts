/** The cause `active-reset`: its rule (`activeResetRule`, reasoned in ../rules-reset.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { activeResetRule } from "../rules-reset.js";
import { defineCause } from "./define.js";

export const activeReset = defineCause({
  name: "active-reset",
  rule: activeResetRule,
  counters: ["TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnLinger"],
  dropReasons: [],
  mitigation: {
    change: "read the whole request before close() (or stop setting SO_LINGER 0) in the app",
    scenario: "reset-on-close",
    hostSysctls: {},
  },
});
