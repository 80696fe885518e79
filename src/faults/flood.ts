/**
 * `floods:`: a SYN flood from an attacker node's own address (hping3 over IPv4, the agent's
 * `synflood` over IPv6, which hping3 lacks; no spoofing). Its own
 * scenario section rather than a fault kind: it comes from a node, is prepared before its `at`
 * and runs per replica of the attacker, where a fault acts on one target at one moment.
 */
import { z } from "zod";
import { AGENT_PATH } from "../agent/protocol.js";
import type { StartedNode } from "../runtime/runtime.js";
import { Duration, Name, Target, type AddProblem } from "../scenario/values.js";

/** What floods read of a scenario (a Scenario is one; the schema is built from this module). */
interface FloodScenario {
  nodes: Record<string, { networks: string[] }>;
  floods: Flood[];
  timeout: number;
}

export const FloodSchema = z.strictObject({
  from: Name.meta({ description: "Attacker node (hping3 runs in each replica)" }),
  to: Target.meta({ description: "node:port — always a node of this scenario" }),
  at: Duration.default(0),
  count: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .meta({ description: "SYNs sent (hping3 -S --faster -c count)" }),
});

export type Flood = z.output<typeof FloodSchema>;

export interface FloodContext {
  attacker: StartedNode;
  /** The target's address on a network it shares with the attacker. */
  host: string;
  /** The variant's overall bound (`timeout:`). */
  timeoutMs: number;
}

/** The address of `f.to` the attacker reaches directly (floods do not cross a gateway). */
export function floodHost(s: Pick<FloodScenario, "nodes">, f: Flood, target: StartedNode): string {
  const net = s.nodes[f.from]!.networks.find((n) => s.nodes[f.to.node]!.networks.includes(n))!;
  // A network with IPv4 floods over it (hping3); an IPv6-only one over IPv6.
  return target.addresses[net] ?? target.addresses6![net]!;
}

const isIp6 = (host: string) => host.includes(":");

/**
 * Before the timeline starts: the attacker's own kernel would answer every SYN-ACK with RST and
 * free the server's half-open slots, so those RSTs are dropped and the SYN queue really fills.
 */
export async function prepareFlood(ctx: FloodContext): Promise<void> {
  await ctx.attacker.exec(
    [
      isIp6(ctx.host) ? "ip6tables" : "iptables",
      "-I",
      "OUTPUT",
      "-p",
      "tcp",
      "-d",
      ctx.host,
    ].concat(["--tcp-flags", "RST", "RST", "-j", "DROP"]),
  );
}

/**
 * Sends the flood and resolves once every SYN is out: traffic scheduled after it then meets a
 * full SYN queue, however slowly a loaded machine sent the flood.
 */
export async function sendFlood(ctx: FloodContext, f: Flood): Promise<void> {
  if (isIp6(ctx.host)) {
    const argv = [AGENT_PATH, "synflood", "--host", ctx.host, "--port", String(f.to.port)];
    await ctx.attacker.exec(
      [...argv, "--count", String(f.count)],
      Math.max(10_000, ctx.timeoutMs - f.at),
    );
    return;
  }
  const argv = ["hping3", "-q", "-S", "-p", String(f.to.port), "-c", String(f.count)];
  // hping3 exits non-zero when some packets got no answer, which is the point of a flood.
  await ctx.attacker.exec(
    ["sh", "-c", `${[...argv, "--faster", ctx.host].join(" ")} >/dev/null 2>&1; true`],
    Math.max(10_000, ctx.timeoutMs - f.at),
  );
}

/** Load-time checks of `floods:`: nodes of this scenario that share a network, within the timeout. */
export function floodProblems(s: FloodScenario, add: AddProblem): void {
  s.floods.forEach((f, i) => {
    const from = s.nodes[f.from];
    const to = s.nodes[f.to.node];
    if (!from) add(["floods", i, "from"], `unknown node "${f.from}"`);
    if (!to)
      add(
        ["floods", i, "to"],
        `unknown node "${f.to.node}": floods only go to this scenario's nodes`,
      );
    else if (from && !from.networks.some((n) => to.networks.includes(n)))
      add(
        ["floods", i, "to"],
        `"${f.from}" and "${f.to.node}" must share a network (floods do not cross the gateway)`,
      );
    if (f.at >= s.timeout)
      add(["floods", i, "at"], `flood at ${f.at} ms is after the timeout (${s.timeout} ms)`);
  });
}
