/** The cause `delayed-ack-nagle`: its rule (`delayedAckRule`, reasoned in ../rules-wire.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { delayedAckRule } from "../rules-wire.js";
import { defineCause } from "./define.js";

export const delayedAckNagle = defineCause({
  name: "delayed-ack-nagle",
  rule: delayedAckRule,
  counters: [],
  dropReasons: [],
  mitigation: {
    change:
      "send each request in one write, or set TCP_NODELAY on the client (TCP_QUICKACK on the server)",
    scenario: "delayed-ack-nagle",
    hostSysctls: {},
  },
});
