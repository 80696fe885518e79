/**
 * A scenario's topology as a Compose file (`tcprepro compose`), to bring up and poke at with
 * plain `docker-compose`, without tcprepro. Pure: the scenario in, the file's text out, the same
 * text every time (the top-level docker-compose.yml is this export, checked by a test).
 *
 * What a run does at `up`, written down statically:
 * - every network internal (no route out), with a fixed /24 from 198.18.0.0/15: the first
 *   network 198.19.254.0/24, then 198.19.255.0/24, then 198.18.0.0/24, 198.18.1.0/24, … (the
 *   pool's last two blocks first, so the standard topology's two networks sit at its very end,
 *   away from where a run's random allocation usually lands);
 * - every node instance a service (`client.1` → `client-1`, replicas as separate services so
 *   that each has a fixed address), with NET_ADMIN/NET_RAW, its sysctls and host number 10 + its
 *   index on every network, like the Docker runtime;
 * - every node drops its default route first (Docker gives one even on an internal network);
 * - a gateway adds the same DNAT/SNAT rules a run adds (`gatewayRulesWith`), then holds;
 * - a node with the built-in app runs it (`serveArgv`), others hold.
 * A node with its own `image` keeps its own command (its default route stays: its image may
 * have no shell or `ip`).
 */
import { Document } from "yaml";
import { AGENT_PATH, connectArgv, serveArgv } from "../agent/protocol.js";
import type { LoadedScenario, Variant } from "../scenario/load.js";
import type { Scenario } from "../scenario/schema.js";
import { hostAddress, intToIp, parseCidr } from "../runtime/subnets.js";
import { DEFAULT_POOL6, freeSubnets6, hostAddress6 } from "../runtime/subnets6.js";
import { carries, networkFamily, networkNames } from "../scenario/family.js";
import { UsageError } from "../util/errors.js";
import {
  connectOptionsFor,
  gatewayRulesWith,
  planTopology,
  routeWith,
  serveOptionsFor,
  nodeHasIpv6,
  type AddressBook,
} from "./plan.js";

/** The node image tcprepro builds (`NODE_LATEST` of the Docker runtime's images). */
export const COMPOSE_IMAGE = "tcprepro/node:latest";
const POOL = "198.18.0.0/15";
/** First host number of nodes in each /24, as the Docker runtime gives them (.1 is the bridge). */
const FIRST_HOST = 10;

/** The fixed subnet of the i-th network: 198.19.254.0/24, 198.19.255.0/24, 198.18.0.0/24, … */
export function composeSubnet(i: number): string {
  const { base, prefix } = parseCidr(POOL);
  const blocks = 2 ** (24 - prefix);
  return `${intToIp((base + ((blocks - 2 + i) % blocks) * 256) >>> 0)}/24`;
}

/** Compose service name of a node instance: `client.1` → `client-1`. */
export const serviceName = (instance: string) => instance.replaceAll(".", "-");

/** A word for `sh -c`: left bare when it is safe, single-quoted otherwise. */
function shWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
const shLine = (argv: string[]) => argv.map(shWord).join(" ");

export interface ComposeExport {
  /** The scenario variant exported. */
  variant: string;
  /** Service name and addresses of every node instance, in plan order. */
  services: {
    service: string;
    node: string;
    addresses: Record<string, string>;
    addresses6?: Record<string, string>;
  }[];
  subnets: Record<string, string>;
  subnets6?: Record<string, string>;
  /** The Compose file's text, header comment included. */
  text: string;
}

/**
 * Addresses every node instance gets: network subnets in order (a /24 for IPv4, the pool's
 * first /64s for IPv6), hosts 10, 11, … by node order.
 */
function fixedAddresses(s: Scenario): {
  subnets: Record<string, string>;
  subnets6: Record<string, string>;
  byInstance: Map<string, Record<string, string>>;
  byInstance6: Map<string, Record<string, string>>;
} {
  const names = networkNames(s);
  const v4 = names.filter((n) => carries(networkFamily(s, n), "ipv4"));
  const v6 = names.filter((n) => carries(networkFamily(s, n), "ipv6"));
  const subnets = Object.fromEntries(v4.map((n) => [n, composeSubnet(names.indexOf(n))]));
  const six = freeSubnets6(DEFAULT_POOL6, [], names.length, () => 0);
  const subnets6 = Object.fromEntries(v6.map((n) => [n, six[names.indexOf(n)]!]));
  const { plan } = planTopology(s, "compose");
  const byInstance = new Map<string, Record<string, string>>();
  const byInstance6 = new Map<string, Record<string, string>>();
  plan.nodes.forEach((node, i) => {
    const on = (sub: Record<string, string>, addr: (subnet: string, host: number) => string) =>
      Object.fromEntries(
        node.networks.filter((n) => sub[n]).map((n) => [n, addr(sub[n]!, FIRST_HOST + i)]),
      );
    byInstance.set(node.name, on(subnets, hostAddress));
    byInstance6.set(node.name, on(subnets6, hostAddress6));
  });
  return { subnets, subnets6, byInstance, byInstance6 };
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.trim().split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function header(loaded: LoadedScenario, v: Variant, s: Scenario, addresses: AddressBook): string {
  const project = `tcprepro-${loaded.name}`;
  const dc = `docker-compose -p ${project}`;
  const variantFlag = v.name === loaded.variants[0]!.name ? "" : ` --variant ${v.name}`;
  const lines = [
    ` ${loaded.name}${variantFlag ? ` (variant ${v.name})` : ""}, as a Compose file to poke at by hand.`,
    ` Generated by \`npx tcprepro compose ${loaded.file}${variantFlag}\`: edit the scenario, not this.`,
    "",
    ...wrap(loaded.summary, 94).map((l) => ` ${l}`),
    "",
    " Build the image first (`npx tcprepro images build`), then:",
    `   ${dc} up -d`,
  ];
  // The scenario's own traffic, as the agent's command line, from each client instance.
  const { instances } = planTopology(s, "compose");
  for (const t of s.traffic) {
    const route = routeWith(s, addresses, t);
    const argv = connectArgv(connectOptionsFor(s, t, route));
    const from = instances.filter((i) => i.base === t.from).map((i) => serviceName(i.name));
    lines.push(`   ${dc} exec ${from[0]} ${shLine(argv)}`);
    if (from.length > 1) lines.push(`     (and the same from ${from.slice(1).join(", ")})`);
  }
  for (const inst of instances.filter((i) => i.spec.app)) {
    const svc = serviceName(inst.name);
    lines.push(`   ${dc} exec ${svc} ss -lnt    # the accept queue: Recv-Q over Send-Q`);
    lines.push(`   ${dc} exec ${svc} nstat -az TcpExtListenOverflows TcpExtListenDrops`);
  }
  lines.push(
    `   ${dc} exec <service> bash    # a shell on a node`,
    `   ${dc} down`,
    "",
    " Networks are internal (no route out) with fixed /24s from 198.18.0.0/15, and every node",
    " drops its default route, as in a tcprepro run. A client behind a gateway connects to the",
    " gateway's own address on its network, which DNATs to the target and SNATs to its own",
    " address on the target's side: Docker drops routing between internal networks.",
  );
  return lines.join("\n");
}

/** The Compose export of one variant of a loaded scenario (default: its first, the baseline). */
export function composeFile(loaded: LoadedScenario, variantName?: string): ComposeExport {
  const v = variantName ? loaded.variants.find((x) => x.name === variantName) : loaded.variants[0];
  if (!v) throw new UsageError(`${loaded.file} has no variant named "${variantName}"`);
  const s = v.scenario;
  const { plan, instances } = planTopology(s, "compose");
  const { subnets, subnets6, byInstance, byInstance6 } = fixedAddresses(s);
  const addresses: AddressBook = (node, family) =>
    (family === "ipv6" ? byInstance6 : byInstance).get(node)!;
  const rules = gatewayRulesWith(s, addresses);

  const networks = Object.fromEntries(
    networkNames(s).map((n) => [
      n,
      {
        internal: true,
        ...(subnets6[n] ? { enable_ipv6: true } : {}),
        ipam: {
          config: [
            ...(subnets[n] ? [{ subnet: subnets[n], gateway: hostAddress(subnets[n], 1) }] : []),
            ...(subnets6[n]
              ? [{ subnet: subnets6[n], gateway: hostAddress6(subnets6[n], 1) }]
              : []),
          ],
        },
      },
    ]),
  );
  const services: Record<string, unknown> = {};
  const listed: ComposeExport["services"] = [];
  plan.nodes.forEach((node, i) => {
    const inst = instances[i]!;
    const service = serviceName(node.name);
    const own = byInstance.get(node.name)!;
    const own6 = byInstance6.get(node.name)!;
    listed.push({
      service,
      node: node.name,
      addresses: own,
      ...(Object.keys(own6).length > 0 ? { addresses6: own6 } : {}),
    });
    const entry: Record<string, unknown> = {
      image: node.image ?? COMPOSE_IMAGE,
      hostname: service,
      cap_add: ["NET_ADMIN", "NET_RAW"],
    };
    if (Object.keys(node.sysctls).length > 0) entry.sysctls = node.sysctls;
    entry.networks = Object.fromEntries(
      node.networks.map((n) => [
        n,
        {
          ...(own[n] ? { ipv4_address: own[n] } : {}),
          ...(own6[n] ? { ipv6_address: own6[n] } : {}),
        },
      ]),
    );
    if (node.image) {
      if (node.command) entry.command = node.command;
    } else {
      const app = inst.spec.app;
      const last = app
        ? serveArgv(serveOptionsFor(app, nodeHasIpv6(s, inst.spec)))
        : [AGENT_PATH, "hold"];
      const steps = [
        // `|| true`: there may be none (an engine that gives no default route).
        "ip -4 route del default || true",
        ...(Object.keys(own6).length > 0 ? ["ip -6 route del default || true"] : []),
        ...(rules.get(node.name) ?? []).map(shLine).map((r) => `${r} &&`),
        `exec ${shLine(last)}`,
      ];
      entry.command = ["sh", "-c", steps.join("\n")];
    }
    services[service] = entry;
  });

  const comment = header(loaded, v, s, addresses)
    .split("\n")
    .map((l) => `#${l}`)
    .join("\n");
  const text = `${comment}\n${new Document({ networks, services }).toString({ lineWidth: 0 })}`;
  return {
    variant: v.name,
    services: listed,
    subnets,
    ...(Object.keys(subnets6).length > 0 ? { subnets6 } : {}),
    text,
  };
}
