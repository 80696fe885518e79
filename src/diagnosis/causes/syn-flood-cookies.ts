/** The cause `syn-flood-cookies`: its rule (`synCookiesRule`, reasoned in ../rules-listen.ts beside the rules it shares helpers with), counters, drop reasons and what to try. */
import { synCookiesRule } from "../rules-listen.js";
import { defineCause } from "./define.js";

export const synFloodCookies = defineCause({
  name: "syn-flood-cookies",
  rule: synCookiesRule,
  counters: [],
  dropReasons: [],
  mitigation: {
    change:
      "nothing urgent: syncookies are answering a SYN flood; raise net.ipv4.tcp_max_syn_backlog " +
      "if legitimate bursts trigger them",
    scenario: "syn-flood",
    hostSysctls: { server: ["net.ipv4.tcp_max_syn_backlog", "net.core.somaxconn"] },
  },
});
