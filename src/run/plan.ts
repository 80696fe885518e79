/**
 * Scenario → what the runtime must build (replicas expanded, roles assigned, the gateway's
 * sysctls) and, once it stands, where each client sends and which NAT rules the gateway needs.
 */
import type { NodeRole } from "../evidence/types.js";
import type { NodePlan, StartedTopology, TopologyPlan } from "../runtime/runtime.js";
import type { ConnectOptions, ServeOptions } from "../agent/protocol.js";
import type { App, Scenario, ScenarioNode, Traffic } from "../scenario/schema.js";
import {
  carries,
  networkFamily,
  networkNames,
  trafficFamily,
  type IpFamily,
} from "../scenario/family.js";

export interface NodeInstance {
  /** `client.1`, or `server` for a node without replicas. */
  name: string;
  /** The scenario's node name. */
  base: string;
  role: NodeRole;
  spec: ScenarioNode;
}

export function instanceNames(name: string, node: ScenarioNode): string[] {
  return node.replicas === 1
    ? [name]
    : Array.from({ length: node.replicas }, (_, i) => `${name}.${i + 1}`);
}

function roleOf(s: Scenario, name: string, node: ScenarioNode): NodeRole {
  if (node.snat) return "gateway";
  if (
    node.app ||
    node.image ||
    node.build ||
    node.container ||
    s.traffic.some((t) => t.to.node === name)
  )
    return "server";
  if (s.traffic.some((t) => t.from === name)) return "client";
  return "other";
}

export function planTopology(
  s: Scenario,
  runId: string,
): { plan: TopologyPlan; instances: NodeInstance[] } {
  const instances: NodeInstance[] = [];
  const nodes: NodePlan[] = [];
  for (const [base, spec] of Object.entries(s.nodes)) {
    const sysctls = Object.fromEntries(
      Object.entries(spec.sysctls).map(([k, v]) => [k, String(v)]),
    );
    // A gateway forwards; this is its own namespace's setting, never the host's.
    if (spec.snat) sysctls["net.ipv4.ip_forward"] ??= "1";
    if (spec.snat && spec.networks.some((n) => carries(networkFamily(s, n), "ipv6")))
      sysctls["net.ipv6.conf.all.forwarding"] ??= "1";
    for (const name of instanceNames(base, spec)) {
      instances.push({ name, base, role: roleOf(s, base, spec), spec });
      nodes.push({
        name,
        networks: spec.networks,
        sysctls,
        image: spec.image,
        command: spec.command,
        build: spec.build,
        packages: spec.packages,
        container: spec.container,
      });
    }
  }
  const kernelSysctls = Object.entries(s.kernelSysctls ?? {}).map(([k, v]) => [k, String(v)]);
  const plan: TopologyPlan = {
    runId,
    networks: networkNames(s).map((name) => ({ name, family: networkFamily(s, name) })),
    nodes,
    ...(kernelSysctls.length > 0 ? { kernelSysctls: Object.fromEntries(kernelSysctls) } : {}),
  };
  return { plan, instances };
}

/** A network both nodes are on, if any. */
function sharedNetwork(a: ScenarioNode, b: ScenarioNode): string | undefined {
  return a.networks.find((n) => b.networks.includes(n));
}

export interface Route {
  /** Address the client connects to. */
  host: string;
  port: number;
  /** The family `host` is in. @default "ipv4" */
  family?: IpFamily;
}

/**
 * Where a client instance connects for `traffic`. On a shared network: the target itself.
 * Behind a gateway: the gateway's own address on the client's side, which it DNATs to the target
 * — routing between two internal Docker networks is dropped by the engine's isolation rules, so
 * the gateway is an explicit NAT hop rather than a router.
 */
export function routeFor(s: Scenario, topo: StartedTopology, t: Traffic): Route {
  return routeWith(s, addressesOf(topo), t);
}

/**
 * A node's address in `family` on each of its networks, by node name. From a standing topology,
 * or fixed in advance (`tcprepro compose` writes them into the Compose file).
 */
export type AddressBook = (node: string, family: IpFamily) => Readonly<Record<string, string>>;

const addressesOf =
  (topo: StartedTopology): AddressBook =>
  (node, family) => {
    const n = topo.nodes.get(node)!;
    return family === "ipv6" ? (n.addresses6 ?? {}) : n.addresses;
  };

/** `routeFor` on given addresses. */
export function routeWith(s: Scenario, addresses: AddressBook, t: Traffic): Route {
  const from = s.nodes[t.from]!;
  const to = s.nodes[t.to.node]!;
  const family = trafficFamily(s, t);
  const shared = sharedNetwork(from, to);
  if (shared) return { host: addresses(t.to.node, family)[shared]!, port: t.to.port, family };
  const lan = s.nodes[from.via!]!.snat!.from;
  return { host: addresses(from.via!, family)[lan]!, port: t.to.port, family };
}

/** iptables commands (argv) for each gateway, one DNAT + one SNAT per target port behind it. */
export function gatewayRules(s: Scenario, topo: StartedTopology): Map<string, string[][]> {
  return gatewayRulesWith(s, addressesOf(topo));
}

/** The firewall binary of a family: ip6tables takes the same argv as iptables. */
export function firewallBinary(family: IpFamily): string {
  return family === "ipv6" ? "ip6tables" : "iptables";
}

/** `addr:port` for iptables' NAT targets: an IPv6 address goes in brackets. */
function natAddress(address: string, family: IpFamily, port?: string): string {
  if (port === undefined) return address;
  return family === "ipv6" ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * `gatewayRules` on given addresses. One pair per gateway, target, port and family: a dual
 * gateway translates IPv4 with iptables and IPv6 with ip6tables (NAT66), each in its own
 * conntrack zone of addresses but sharing the gateway's port range.
 */
export function gatewayRulesWith(s: Scenario, addresses: AddressBook): Map<string, string[][]> {
  const rules = new Map<string, string[][]>();
  const seen = new Set<string>();
  for (const t of s.traffic) {
    const from = s.nodes[t.from]!;
    const to = s.nodes[t.to.node]!;
    if (sharedNetwork(from, to) || !from.via) continue;
    const family = trafficFamily(s, t);
    const key = `${from.via}|${t.to.node}|${t.to.port}|${family}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const gwSpec = s.nodes[from.via]!;
    const gw = { addresses: addresses(from.via, family) };
    const target = { addresses: addresses(t.to.node, family) };
    const lan = gwSpec.snat!.from;
    const wan = gwSpec.networks.find((n) => n !== lan && to.networks.includes(n))!;
    const port = String(t.to.port);
    const ports = gwSpec.snat!.ports;
    const source = natAddress(
      gw.addresses[wan]!,
      family,
      ports ? `${ports.low}-${ports.high}` : undefined,
    );
    const binary = firewallBinary(family);
    const list = rules.get(from.via) ?? [];
    list.push(
      [
        binary,
        "-t",
        "nat",
        "-A",
        "PREROUTING",
        "-d",
        gw.addresses[lan]!,
        "-p",
        "tcp",
        "--dport",
        port,
        "-j",
        "DNAT",
        "--to-destination",
        natAddress(target.addresses[wan]!, family, port),
      ],
      // SNAT with an explicit range (MASQUERADE cannot take one): the narrow range is what
      // makes the gateway reuse ports and collide with its own conntrack entries.
      [
        binary,
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-d",
        target.addresses[wan]!,
        "-p",
        "tcp",
        "--dport",
        port,
        "-j",
        "SNAT",
        "--to-source",
        source,
      ],
    );
    rules.set(from.via, list);
  }
  return rules;
}

/** A scenario's traffic item as the agent's `connect` options (bounded by the scenario's timeout). */
export function connectOptionsFor(s: Scenario, t: Traffic, route: Route): ConnectOptions {
  return {
    host: route.host,
    port: route.port,
    connections: t.connections,
    concurrency: t.concurrency,
    rate: t.rate,
    connectTimeoutMs: t.connectTimeout,
    payloadBytes: t.payload,
    expectReply: t.expectReply,
    replyTimeoutMs: t.replyTimeout,
    holdMs: t.hold,
    close: t.close,
    // The generator bounds itself: it stops starting attempts once the scenario's time is up.
    maxMs: Math.max(1_000, s.timeout - t.at),
    ...clientBehaviour(t),
  };
}

/** The optional client behaviours, only those the traffic item sets (older argv unchanged). */
function clientBehaviour(t: Traffic): Partial<ConnectOptions> {
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    ...(t.protocol === "udp" ? { udp: true } : {}),
    ...(t.recverr ? { recverr: true } : {}),
    ...(t.nodelay ? { nodelay: true } : {}),
    ...(t.splitWrites ? { splitWrites: true } : {}),
    ...(t.requests !== undefined ? { requests: t.requests } : {}),
    ...(t.halfClose ? { halfClose: true } : {}),
    ...(t.keepalive
      ? {
          keepalive: {
            idleS: seconds(t.keepalive.idle),
            intvlS: seconds(t.keepalive.interval),
            cnt: t.keepalive.probes,
          },
        }
      : {}),
  };
}

/** The node is on a network that carries IPv6: its app listens on [::] (both families). */
export function nodeHasIpv6(s: Scenario, node: ScenarioNode): boolean {
  return node.networks.some((n) => carries(networkFamily(s, n), "ipv6"));
}

/** A node's built-in app as the agent's `serve` options. */
export function serveOptionsFor(app: App, ipv6 = false): ServeOptions {
  return {
    ...(ipv6 ? { ipv6: true } : {}),
    port: app.listen,
    backlog: app.backlog,
    accept: typeof app.accept === "string" ? app.accept : "delay",
    delayMs: typeof app.accept === "string" ? undefined : app.accept.delayMs,
    reply: app.reply,
    closeFirst: app.closeFirst,
    resetOnClose: app.resetOnClose,
    ...(app.neverClose ? { neverClose: true } : {}),
    ...(app.requestBytes !== undefined ? { requestBytes: app.requestBytes } : {}),
  };
}
