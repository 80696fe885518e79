/** The cause `no-listener`: its rule (`noListenerRule`, reasoned in ../rules-reset.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { noListenerRule } from "../rules-reset.js";
import { defineCause } from "./define.js";

export const noListener = defineCause({
  name: "no-listener",
  rule: noListenerRule,
  counters: [],
  dropReasons: ["NO_SOCKET"],
  mitigation: {
    change: "start the app, or point clients at the port it really listens on",
    scenario: "connection-refused",
    hostSysctls: {},
  },
});
