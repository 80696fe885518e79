/**
 * `up` with veth wiring (wiring.ts): containers with NetworkMode none, each plugged into the
 * run's switch once started. Subnets are only labels here — every run has its own bridges — but
 * runs still take distinct ones, so that addresses in reports and captures are never ambiguous
 * between runs.
 */
import type Docker from "dockerode";
import pLimit from "p-limit";
import { usedSubnets as netnsSubnets } from "../netns/state.js";
import type { TopologyPlan } from "../runtime.js";
import type { SweptTopology } from "../shared/topology.js";
import { allocateSubnets } from "../allocate.js";
import { hostAddress } from "../subnets.js";
import { hostAddress6 } from "../subnets6.js";
import { containerName, DockerNode, dropDefaultRoute, FIRST_HOST } from "./docker-node.js";
import { createSwitch, devicesOf, ipv6Off, plug, splitSysctls, type Port } from "./wiring.js";

/** On a veth-wired run's containers: its subnets, so that other runs pick others. */
export const LABEL_SUBNETS = "tcprepro.subnets";

export async function upWired(
  docker: Docker,
  plan: TopologyPlan,
  topology: SweptTopology,
  o: { image: string; labels: Record<string, string>; pool?: string; pool6?: string },
): Promise<void> {
  const [networks, containers] = await Promise.all([
    docker.listNetworks(),
    docker.listContainers({ all: true, filters: { label: [LABEL_SUBNETS] } }),
  ]);
  const used = [
    ...networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")),
    ...containers.flatMap((c) => (c.Labels[LABEL_SUBNETS] ?? "").split(",")),
    ...netnsSubnets(),
  ].filter(Boolean);
  const { subnets: v4, subnets6 } = allocateSubnets(plan.networks, used, o);
  Object.assign(topology.subnets, v4);
  if (Object.keys(subnets6).length > 0) topology.subnets6 = subnets6;
  const netIndex = new Map(plan.networks.map((n, j) => [n.name, j]));
  const labels = {
    ...o.labels,
    [LABEL_SUBNETS]: [...Object.values(topology.subnets), ...Object.values(subnets6)].join(","),
  };

  // Every container of ours exists (labelled) before the switch does: see wiring.ts.
  const limit = pLimit(8);
  const created = new Map<string, Docker.Container>();
  await Promise.all(
    plan.nodes
      .filter((n) => !n.container)
      .map((node) =>
        limit(async () => {
          const container = await docker.createContainer({
            name: containerName(plan.runId, node.name),
            Hostname: node.name.replaceAll(".", "-"),
            Image: node.image ?? o.image,
            Cmd: node.image ? node.command : undefined,
            Labels: { ...labels, "tcprepro.node": node.name },
            HostConfig: {
              NetworkMode: "none",
              // IPv6 off on the interfaces we add: no router solicitations or DAD in captures.
              Sysctls: {
                ...ipv6Off(node.networks.some((n) => subnets6[n] !== undefined)),
                ...splitSysctls(node.sysctls, ownDevices(node.networks.length)).atStart,
              },
              // iptables rules, tcpdump and hping3 inside the node's own namespace.
              CapAdd: ["NET_ADMIN", "NET_RAW"],
            },
          });
          created.set(node.name, container);
        }),
      ),
  );
  const switched = createSwitch(plan.runId, plan.networks.length);
  switched.catch(() => undefined); // awaited by every node below; this only marks it handled
  await Promise.all(
    plan.nodes.map((node, i) =>
      limit(async () => {
        let container: Docker.Container;
        if (node.container) {
          container = docker.getContainer(node.container);
          const info = await container.inspect().catch(() => undefined);
          if (!info) throw new Error(`no container "${node.container}" to join to the topology`);
          if (!info.State.Running) throw new Error(`container "${node.container}" is not running`);
        } else {
          container = created.get(node.name)!;
          await container.start();
        }
        const { State } = await container.inspect();
        const pid = State.Pid;
        if (!State.Running || pid <= 0)
          throw new Error(
            `node ${node.name}: its container stopped at once (exit ${State.ExitCode}), before it could be wired`,
          );
        // A joined container keeps its own interfaces: ours take the next free ethN.
        const taken = node.container ? await devicesOf(pid) : new Set<string>();
        const addresses: Record<string, string> = {};
        const addresses6: Record<string, string> = {};
        const ports: Port[] = [];
        let n = 0;
        for (const net of node.networks) {
          while (taken.has(`eth${n}`)) n++;
          const sub = topology.subnets[net];
          if (sub) addresses[net] = hostAddress(sub, FIRST_HOST + i);
          if (subnets6[net]) addresses6[net] = hostAddress6(subnets6[net], FIRST_HOST + i);
          ports.push({
            network: netIndex.get(net)!,
            device: `eth${n++}`,
            ...(addresses[net] ? { address: addresses[net] } : {}),
            ...(addresses6[net] ? { address6: addresses6[net] } : {}),
          });
        }
        await switched;
        const { afterPlug } = splitSysctls(
          node.sysctls,
          ports.map((p) => p.device),
        );
        await plug(plan.runId, pid, i, ports, node.name, afterPlug);
        const started = new DockerNode(
          node.name,
          addresses,
          container,
          pid,
          Object.keys(addresses6).length > 0 ? addresses6 : undefined,
        );
        // Ours have no default route (NetworkMode none); a joined one's goes, as before.
        if (node.container) await dropDefaultRoute(started, pid);
        topology.nodes.set(node.name, started);
      }),
    ),
  );
}

/** The interfaces a container of ours gets: eth0, eth1, … one per network. */
function ownDevices(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `eth${k}`);
}
