/**
 * Why a scenario cannot run over the families its networks carry (`run --family ipv6`, or a
 * scenario that says `family: ipv6`): a SKIP with the reason, as a missing counter is.
 */
import { ipv4OnlyMatch } from "../faults/firewall.js";
import type { RuntimeCapabilities } from "../runtime/runtime.js";
import { carries, networkFamily, networkName } from "../scenario/family.js";
import type { Scenario } from "../scenario/schema.js";

/** The node has no network that carries IPv4. */
function ipv6Only(s: Scenario, node: string): boolean {
  const spec = s.nodes[node];
  return spec !== undefined && !spec.networks.some((n) => carries(networkFamily(s, n), "ipv4"));
}

export function familySkipReason(
  s: Scenario,
  caps?: Pick<RuntimeCapabilities, "ipv6">,
): string | undefined {
  const v6 = s.networks.some((n) => carries(networkFamily(s, networkName(n)), "ipv6"));
  if (v6 && caps?.ipv6 && caps.ipv6 !== true) return caps.ipv6.reason;
  for (const [i, f] of s.faults.entries()) {
    if (!f.iptables || !ipv6Only(s, f.target)) continue;
    const match = ipv4OnlyMatch(f.iptables);
    if (match)
      return `fault ${i} on ${f.target} (IPv6 only): "${match}" is an IPv4-only match, which ip6tables has not`;
  }
  const neigh = Object.keys(s.kernelSysctls ?? {}).find((k) => k.startsWith("net.ipv4.neigh."));
  const v6Traffic = s.traffic.some((t) => ipv6Only(s, t.from));
  if (neigh && v6Traffic)
    return `${neigh} bounds the IPv4 neighbour table (ARP); the traffic goes over IPv6, whose table (NDISC) is net.ipv6.neigh.*`;
  return undefined;
}
