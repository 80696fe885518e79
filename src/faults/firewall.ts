/**
 * Which firewall binaries a node's rules go to: iptables for its IPv4 side, ip6tables for its
 * IPv6 side (the same argv: ip6tables takes iptables' options), both on a dual-stack node. A
 * rule that can only mean IPv4 (an IPv4 address, ICMP, fragments, TTL) goes to iptables alone;
 * on a node with no IPv4 it cannot run at all, and the scenario SKIPs (ipv4OnlyMatch).
 */
import type { StartedNode } from "../runtime/runtime.js";

/** Options or values that only iptables knows (ip6tables has ICMPv6, hop limit, …). */
const IPV4_ONLY = new Set([
  "icmp",
  "--icmp-type",
  "-f",
  "--fragment",
  "ttl",
  "--ttl-eq",
  "--ttl-gt",
  "--ttl-lt",
  "--ttl-set",
  "icmp-net-unreachable",
  "icmp-host-unreachable",
  "icmp-port-unreachable",
  "icmp-proto-unreachable",
  "icmp-net-prohibited",
  "icmp-host-prohibited",
  "icmp-admin-prohibited",
]);
const IPV4_ADDRESS = /^!?\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?(:\d+(-\d+)?)?$/;

/** The first element of an iptables argv that only makes sense over IPv4, or undefined. */
export function ipv4OnlyMatch(args: readonly string[]): string | undefined {
  return args.find((a) => IPV4_ONLY.has(a) || IPV4_ADDRESS.test(a));
}

/** The binaries a rule for this node runs with: one per family the node has addresses in. */
export function firewallsOf(node: StartedNode, args: readonly string[]): string[] {
  const v4 = Object.keys(node.addresses).length > 0;
  const v6 = Object.keys(node.addresses6 ?? {}).length > 0;
  const out: string[] = [];
  if (v4 || !v6) out.push("iptables");
  if (v6 && ipv4OnlyMatch(args) === undefined) out.push("ip6tables");
  return out;
}
