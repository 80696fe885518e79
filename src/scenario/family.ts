/**
 * Address families: which networks get IPv4, IPv6 or both, and which family a traffic item
 * uses. A network's own `family` wins, then the scenario's, then ipv4. `run --family ipv6`
 * moves a scenario that pins no family anywhere to IPv6 (`withFamily`).
 */
import type { Family, NetworkSpec, Scenario, Traffic } from "./schema.js";

/** One family of IP: what a socket, a route or a firewall binary speaks. */
export type IpFamily = "ipv4" | "ipv6";

export function networkName(n: NetworkSpec): string {
  return typeof n === "string" ? n : n.name;
}

export function networkNames(s: Pick<Scenario, "networks">): string[] {
  return s.networks.map(networkName);
}

export function networkFamily(s: Pick<Scenario, "networks" | "family">, name: string): Family {
  const spec = s.networks.find((n) => networkName(n) === name);
  return (spec && typeof spec !== "string" ? spec.family : undefined) ?? s.family ?? "ipv4";
}

/** The network carries `family` (a dual network carries both). */
export function carries(family: Family, ip: IpFamily): boolean {
  return family === "dual" || family === ip;
}

/** The scenario names a family somewhere: `run --family` leaves it as it is. */
export function pinsFamily(s: Scenario): boolean {
  return (
    s.family !== undefined ||
    s.networks.some((n) => typeof n !== "string") ||
    s.traffic.some((t) => t.family !== undefined)
  );
}

/** The scenario over `family` unless it pins one itself. */
export function withFamily(s: Scenario, family: IpFamily | undefined): Scenario {
  if (family === undefined || family === "ipv4" || pinsFamily(s)) return s;
  return { ...s, family };
}

/** Every IP family any of the scenario's networks carries. */
export function scenarioFamilies(s: Scenario): IpFamily[] {
  const fams = new Set(networkNames(s).map((n) => networkFamily(s, n)));
  const out: IpFamily[] = [];
  if (fams.has("ipv4") || fams.has("dual")) out.push("ipv4");
  if (fams.has("ipv6") || fams.has("dual")) out.push("ipv6");
  return out;
}

/**
 * The family a traffic item's `to` resolves in: its own, or the family of the network the
 * client sends on (the shared one, or its gateway's inside network): ipv6 on an ipv6-only
 * network, ipv4 otherwise.
 */
export function trafficFamily(s: Scenario, t: Pick<Traffic, "family" | "from" | "to">): IpFamily {
  if (t.family) return t.family;
  const net = sendingNetwork(s, t);
  return net !== undefined && networkFamily(s, net) === "ipv6" ? "ipv6" : "ipv4";
}

/** The network the client's packets leave on: shared with the target, or the gateway's inside. */
export function sendingNetwork(s: Scenario, t: Pick<Traffic, "from" | "to">): string | undefined {
  const from = s.nodes[t.from];
  const to = s.nodes[t.to.node];
  if (!from || !to) return undefined;
  const shared = from.networks.find((n) => to.networks.includes(n));
  if (shared) return shared;
  return from.via ? s.nodes[from.via]?.snat?.from : undefined;
}

/** The family a whole scenario is reported under: one family, or dual when it uses both. */
export function reportedFamily(s: Scenario): Family {
  const used = new Set(s.traffic.map((t) => trafficFamily(s, t)));
  const carried = scenarioFamilies(s);
  if (used.size === 2 || (used.size === 0 && carried.length === 2)) return "dual";
  return [...used][0] ?? carried[0] ?? "ipv4";
}
