/** abort-on-overflow: named by accept-queue-overflow's rule: the same full queue, answered with RST. */
import { defineCause } from "./define.js";

export const abortOnOverflow = defineCause({
  name: "abort-on-overflow",
  counters: [],
  dropReasons: ["TCP_LISTEN_OVERFLOW"],
  mitigation: {
    change:
      "set net.ipv4.tcp_abort_on_overflow=0 (a full queue then drops, and the client's retransmit " +
      "may get in), and fix the queue itself as for accept-queue-overflow",
    scenario: "abort-on-overflow",
    hostSysctls: {
      server: [
        "net.core.somaxconn",
        "net.ipv4.tcp_abort_on_overflow",
        "net.ipv4.tcp_synack_retries",
      ],
    },
  },
});
