/**
 * The subnets of one topology: a /24 from the IPv4 pool for each network that carries IPv4, a
 * /64 from the IPv6 pool for each that carries IPv6, none of them overlapping `used` (what the
 * engine, other runs and the netns runtime's state files hold). Both runtimes that wire their
 * own networks (netns, Docker's veth wiring) allocate here.
 */
import { RuntimeUnavailableError } from "../util/errors.js";
import type { TopologyPlan } from "./runtime.js";
import { DEFAULT_POOL, freeSubnets } from "./subnets.js";
import { freeSubnets6, isIp6, pool6 } from "./subnets6.js";

export interface Allocation {
  /** IPv4 /24 per network name. */
  subnets: Record<string, string>;
  /** IPv6 /64 per network name (networks of family ipv6 or dual). */
  subnets6: Record<string, string>;
}

export function allocateSubnets(
  networks: TopologyPlan["networks"],
  used: readonly string[],
  o: { pool?: string; pool6?: string },
): Allocation {
  const v4 = networks.filter((n) => (n.family ?? "ipv4") !== "ipv6");
  const v6 = networks.filter((n) => n.family === "ipv6" || n.family === "dual");
  const candidates = freeSubnets(
    o.pool ?? process.env.TCPREPRO_POOL ?? DEFAULT_POOL,
    used.filter((u) => !isIp6(u)),
  );
  if (candidates.length < v4.length)
    throw new RuntimeUnavailableError(
      "no free /24 left in the address pool: run `tcprepro clean` or set --pool",
    );
  const candidates6 =
    v6.length > 0 ? freeSubnets6(pool6(o.pool6), used.filter(isIp6), v6.length) : [];
  if (candidates6.length < v6.length)
    throw new RuntimeUnavailableError(
      "no free /64 left in the IPv6 address pool: run `tcprepro clean` or set --pool6",
    );
  return {
    subnets: Object.fromEntries(v4.map((net, j) => [net.name, candidates[j]!])),
    subnets6: Object.fromEntries(v6.map((net, j) => [net.name, candidates6[j]!])),
  };
}
