/**
 * Checks of the round-2 keys that need more than their own schema: a client's behaviours that
 * only make sense together, socket-state expectations, and kernel-wide sysctls.
 */
import type { Scenario } from "./schema.js";
import type { SemanticProblem } from "./values.js";

export function checkBehaviour(s: Scenario): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  s.traffic.forEach((t, i) => {
    if (t.requests !== undefined && !t.expectReply)
      add(["traffic", i, "requests"], "requests needs expectReply: true (each is answered)");
    if (t.recverr && t.protocol !== "udp")
      add(
        ["traffic", i, "recverr"],
        "recverr is for protocol udp (TCP reports send errors anyway)",
      );
    if (t.protocol !== "udp") return;
    const tcpOnly = (
      [
        ["expectReply", t.expectReply],
        ["requests", t.requests !== undefined],
        ["splitWrites", t.splitWrites],
        ["nodelay", t.nodelay],
        ["halfClose", t.halfClose],
        ["keepalive", t.keepalive !== undefined],
        ["hold", t.hold > 0],
        ["close", t.close === "server"],
      ] as const
    ).filter(([, set]) => set);
    for (const [key] of tcpOnly)
      add(["traffic", i, key], `${key} is for TCP: protocol udp sends one datagram per attempt`);
    const from = s.nodes[t.from];
    const to = s.nodes[t.to.node];
    if (from && to && !from.networks.some((n) => to.networks.includes(n)))
      add(
        ["traffic", i, "protocol"],
        "udp traffic goes to a node on a shared network (the gateway NATs TCP only)",
      );
  });
  for (const node of Object.keys(s.expect.sockets ?? {})) {
    if (!s.nodes[node]) add(["expect", "sockets", node], `unknown node "${node}"`);
  }
  if (s.kernelSysctls && Object.keys(s.kernelSysctls).length > 0 && !s.requires.ownKernel)
    add(
      ["kernelSysctls"],
      "kernel-wide sysctls change the whole kernel: only with requires.ownKernel: true",
    );
  return problems;
}
