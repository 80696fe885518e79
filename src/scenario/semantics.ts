/**
 * Checks the schema cannot express: references between nodes, networks and targets, and
 * sysctls this kernel does not have. Each problem names the path of the key at fault.
 */
import { carries, networkFamily, networkNames, sendingNetwork } from "./family.js";
import { floodProblems } from "../faults/flood.js";
import { faultProblems } from "../faults/registry.js";
import type { Scenario, ScenarioNode } from "./schema.js";
import { checkBehaviour } from "./semantics-behaviour.js";
import { checkUserNodes, runsUserSoftware } from "./semantics-user.js";

/** What loading needs of the kernel the topology will run on (a runtime's KernelInventory has it). */
export interface KernelFacts {
  /** Does this sysctl exist on the kernel the topology will run on? */
  sysctlExists(name: string): boolean;
}

/** Accepts every sysctl: for checking a file before the runtime (and its kernel) is known. */
export const anyKernel: KernelFacts = { sysctlExists: () => true };

export type { SemanticProblem } from "./values.js";
import type { SemanticProblem } from "./values.js";

/** Total connection attempts one scenario may make, all clients together. */
export const MAX_TOTAL_ATTEMPTS = 1_000_000;

/** `add` records one problem at a key's path; the loader turns the path into file:line. */
export type { AddProblem } from "./values.js";
import type { AddProblem } from "./values.js";

export function checkReferences(s: Scenario, facts: KernelFacts): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const add: AddProblem = (path, message) => problems.push({ path, message });
  const names = networkNames(s);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) add(["networks", i], `network "${n}" is listed twice`);
  });
  for (const [name, node] of Object.entries(s.nodes)) nodeProblems(s, name, node, facts, add);
  trafficProblems(s, add);
  floodProblems(s, add);
  faultProblems(s, add);
  expectProblems(s, add);
  problems.push(...checkBehaviour(s));
  problems.push(...checkUserNodes(s));
  return problems;
}

/** One node: its networks, sysctls, gateway and what it runs. */
function nodeProblems(
  s: Scenario,
  name: string,
  node: ScenarioNode,
  facts: KernelFacts,
  add: AddProblem,
): void {
  const nets = new Set(networkNames(s));
  const nodes = s.nodes;
  const required = new Set(s.requires.sysctls ?? []);
  node.networks.forEach((n, i) => {
    if (!nets.has(n))
      add(
        ["nodes", name, "networks", i],
        `unknown network "${n}" (declared: ${networkNames(s).join(", ")})`,
      );
  });
  for (const key of Object.keys(node.sysctls)) {
    if (!facts.sysctlExists(key) && !required.has(key)) {
      add(
        ["nodes", name, "sysctls", key],
        `sysctl "${key}" does not exist on this kernel (a typo? if it exists on other kernels, list it in requires.sysctls so the scenario SKIPs here)`,
      );
    }
  }
  if (node.snat) {
    if (!node.networks.includes(node.snat.from))
      add(
        ["nodes", name, "snat", "from"],
        `"${node.snat.from}" is not one of this node's networks`,
      );
    if (node.networks.length < 2) add(["nodes", name, "snat"], "a SNAT gateway needs two networks");
    if (node.replicas > 1) add(["nodes", name, "replicas"], "a gateway cannot have replicas");
  }
  if (node.via !== undefined) {
    const gw = nodes[node.via];
    if (!gw) add(["nodes", name, "via"], `unknown node "${node.via}"`);
    else if (!gw.snat)
      add(["nodes", name, "via"], `node "${node.via}" has no snat: it is not a gateway`);
    else if (!node.networks.includes(gw.snat.from))
      add(
        ["nodes", name, "via"],
        `this node is not on "${gw.snat.from}", the network "${node.via}" translates`,
      );
  }
  if (node.command && !runsUserSoftware(node))
    add(
      ["nodes", name, "command"],
      "command needs image, build or packages (the built-in app takes app:)",
    );
  if ((node.app || node.image || node.build) && node.replicas > 1)
    add(["nodes", name, "replicas"], "a server node cannot have replicas");
}

/** Traffic goes to this scenario's nodes, reachable directly or through a gateway, in time. */
function trafficProblems(s: Scenario, add: AddProblem): void {
  const nodes = s.nodes;
  const dnatPorts = new Map<string, string>();
  let total = 0;
  s.traffic.forEach((t, i) => {
    const from = nodes[t.from];
    const to = nodes[t.to.node];
    if (!from) add(["traffic", i, "from"], `unknown node "${t.from}"`);
    if (!to)
      add(
        ["traffic", i, "to"],
        `unknown node "${t.to.node}": traffic only goes to this scenario's nodes`,
      );
    if (!from || !to) return;
    total += t.connections * from.replicas;
    const net = sendingNetwork(s, t);
    if (t.family && net && !carries(networkFamily(s, net), t.family))
      add(
        ["traffic", i, "family"],
        `network "${net}" has no ${t.family} (its family is ${networkFamily(s, net)})`,
      );
    if (t.concurrency > t.connections)
      add(
        ["traffic", i, "concurrency"],
        `concurrency ${t.concurrency} is more than connections ${t.connections}`,
      );
    // Traffic to a port nothing listens on is allowed: that is how a refused connection is made.
    const shared = from.networks.some((n) => to.networks.includes(n));
    const gw = from.via ? nodes[from.via] : undefined;
    if (!shared && gw) {
      if (!to.networks.some((n) => gw.networks.includes(n) && n !== gw.snat?.from))
        add(
          ["traffic", i, "to"],
          `"${t.to.node}" is not on a network the gateway "${from.via}" reaches`,
        );
      const key = `${from.via}:${t.to.port}`;
      const other = dnatPorts.get(key);
      if (other && other !== t.to.node)
        add(
          ["traffic", i, "to"],
          `port ${t.to.port} through "${from.via}" already leads to "${other}"`,
        );
      dnatPorts.set(key, t.to.node);
    } else if (!shared) {
      add(
        ["traffic", i, "to"],
        `"${t.from}" and "${t.to.node}" share no network and "${t.from}" has no via: gateway`,
      );
    }
    if (t.at + t.connectTimeout > s.timeout)
      add(
        ["traffic", i, "at"],
        `traffic starting at ${t.at} ms cannot finish within timeout ${s.timeout} ms`,
      );
  });
  if (total > MAX_TOTAL_ATTEMPTS)
    add(["traffic"], `${total} attempts in all: at most ${MAX_TOTAL_ATTEMPTS}`);
}

/** What `expect` names: nodes that exist, are captured, run the app. */
function expectProblems(s: Scenario, add: AddProblem): void {
  const nodes = s.nodes;
  for (const node of Object.keys(s.expect.counters ?? {})) {
    if (!nodes[node]) add(["expect", "counters", node], `unknown node "${node}"`);
  }
  for (const node of Object.keys(s.expect.packets ?? {})) {
    if (!nodes[node]) add(["expect", "packets", node], `unknown node "${node}"`);
    else if (!nodes[node].capture)
      add(["expect", "packets", node], `node "${node}" is not captured: give it capture: true`);
  }
  for (const node of Object.keys(s.expect.listen ?? {})) {
    if (!nodes[node]?.app) add(["expect", "listen", node], `node "${node}" runs no built-in app`);
  }
}
