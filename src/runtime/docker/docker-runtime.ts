/**
 * The Docker runtime: one internal bridge network per scenario network, one container per node.
 * Every object carries the run's labels, so that a teardown (or `tcprepro clean` after a
 * SIGKILL) finds it by label rather than by a list in memory that a crash would lose.
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import type Docker from "dockerode";
import pLimit from "p-limit";
import { RuntimeUnavailableError, UsageError } from "../../util/errors.js";
import { waitFor } from "../../util/time.js";
import { DEFAULT_POOL, freeSubnets, hostAddress } from "../subnets.js";
import {
  LABEL,
  LABEL_HOST,
  LABEL_LAB,
  LABEL_PID,
  LABEL_RUN,
  type CleanResult,
  type KernelInventory,
  type Runtime,
  type RuntimeCapabilities,
  type StartedTopology,
  type TopologyPlan,
} from "../runtime.js";
import { sumClean } from "../shared/clean.js";
import { hostInventory } from "../shared/host-inventory.js";
import { ownerIsAlive } from "../shared/liveness.js";
import { SweptTopology } from "../shared/topology.js";
import { containerName, DockerNode, dropDefaultRoute, FIRST_HOST } from "./docker-node.js";
import { upWired } from "./wired-up.js";
import { ensureImages } from "./images.js";
import { userImage } from "./user-images.js";
import { chooseWiring, removeSwitch, switchRunIds, type Wiring } from "./wiring.js";

export interface DockerRuntimeOptions {
  pool?: string;
  /** IPv6 pool for networks that carry IPv6. @default 2001:2::/48 (or TCPREPRO_POOL6) */
  pool6?: string;
  baseImage?: string;
  /**
   * Label what `up` creates as a lab (`tcprepro lab up`): it outlives our process, so `clean`
   * leaves it standing (except with `all`) and `removeLabs` takes it down.
   * @default false
   */
  lab?: boolean;
  /** Who wires the containers (wiring.ts). @default veth where it can (or TCPREPRO_DOCKER_WIRING) */
  wiring?: Wiring;
}

export async function connectDocker(): Promise<Docker> {
  // Loaded on first use: the engine's client is the largest module a start loads, and commands
  // that need no engine (validate, list, --version) should not pay for it.
  const { default: Dockerode } = await import("dockerode");
  const docker = new Dockerode();
  const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
  try {
    await docker.ping();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES")
      throw new RuntimeUnavailableError(
        `permission denied on the Docker engine at ${where}: run as root or add your user to the docker group`,
      );
    throw new RuntimeUnavailableError(
      `no Docker engine answers at ${where} (${code ?? (err as Error).message}): \`sudo npx tcprepro setup\` installs and starts one (or by hand: apt-get install -y docker.io iptables, then dockerd & or systemctl start docker)`,
    );
  }
  return docker;
}

export class DockerRuntime implements Runtime {
  readonly name = "docker";
  readonly capabilities: RuntimeCapabilities = {
    userImages: true,
    // `docker pause` uses the cgroup freezer: every process of the container stops at once.
    pause: "freeze",
    // A local engine shares the host's kernel, whose tracefs sees every namespace's drops.
    dropReasons: true,
    ownsKernel: false,
    maxParallel: 16,
  };
  private image: string | undefined;
  private inventoryRead: Promise<KernelInventory> | undefined;
  private engineInfo: Promise<{ KernelVersion?: string; Name?: string }> | undefined;
  private chosen: { wiring: Wiring; why?: string } | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerRuntimeOptions = {},
  ) {}

  /** The engine's kernel; with a local engine that is this host's, read from its /proc. */
  inventory(): Promise<KernelInventory> {
    this.inventoryRead ??= this.info().then((info) => hostInventory(info.KernelVersion));
    return this.inventoryRead;
  }

  private info(): Promise<{ KernelVersion?: string; Name?: string }> {
    return (this.engineInfo ??= this.docker.info() as Promise<{
      KernelVersion?: string;
      Name?: string;
    }>);
  }

  execCommand(runId: string, node: string, interactive: boolean): string[] {
    return ["docker", "exec", ...(interactive ? ["-it"] : []), containerName(runId, node)];
  }

  /** Nothing to release: the engine and the host stay as they are. */
  async close(): Promise<void> {}

  async prepare(progress: (message: string) => void): Promise<void> {
    this.image ??= await ensureImages(this.docker, { base: this.options.baseImage, progress });
    this.chosen ??= chooseWiring(
      await this.info(),
      this.options.wiring ?? process.env.TCPREPRO_DOCKER_WIRING,
    );
    // IPv6 addresses come with tcprepro's veth wiring; the engine's networks here are IPv4.
    if (this.chosen.wiring === "engine")
      this.capabilities.ipv6 = {
        reason: `IPv6 needs the Docker runtime's veth wiring, and the engine wires this run (${this.chosen.why ?? "forced"})`,
      };
  }

  /** Who wires the containers' networks: tcprepro's veths, or the engine (and why). */
  get wiring(): { wiring: Wiring; why?: string } | undefined {
    return this.chosen;
  }

  private labels(runId: string): Record<string, string> {
    return {
      [LABEL]: "1",
      [LABEL_RUN]: runId,
      [LABEL_PID]: String(process.pid),
      [LABEL_HOST]: hostname(),
      ...(this.options.lab ? { [LABEL_LAB]: "1" } : {}),
    };
  }

  async images(plan: TopologyPlan, progress: (message: string) => void): Promise<TopologyPlan> {
    if (!this.image) throw new Error("DockerRuntime.prepare() must run before images()");
    const nodeImage = this.image;
    const nodes = await Promise.all(
      plan.nodes.map(async (n) => ({
        ...n,
        image: await userImage(this.docker, n, nodeImage, progress),
      })),
    );
    return { ...plan, nodes };
  }

  async up(plan: TopologyPlan): Promise<StartedTopology> {
    if (!this.image) throw new Error("DockerRuntime.prepare() must run before up()");
    const topology = new SweptTopology(plan.runId, (id) => removeRun(this.docker, id));
    try {
      // A switch is judged by its run's containers (wiring.ts): a plan of joined containers
      // only has none of ours, so the engine wires it.
      if (this.chosen?.wiring === "veth" && plan.nodes.some((n) => !n.container)) {
        await upWired(this.docker, plan, topology, {
          image: this.image,
          labels: this.labels(plan.runId),
          pool: this.options.pool,
          pool6: this.options.pool6,
        });
        return topology;
      }
      const v6 = plan.networks.find((n) => n.family === "ipv6" || n.family === "dual");
      if (v6)
        throw new RuntimeUnavailableError(
          `network ${v6.name} carries IPv6, which only the veth wiring gives (the engine's own networks are IPv4 here): ${this.chosen?.why ?? "a plan of joined containers only"}`,
        );
      await this.createNetworks(plan, topology);
      await this.createNodes(plan, topology, this.image);
      return topology;
    } catch (err) {
      await topology.down();
      throw err;
    }
  }

  private async createNetworks(plan: TopologyPlan, topology: SweptTopology): Promise<void> {
    const existing = await this.docker.listNetworks();
    const used = existing.flatMap((n) =>
      (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
    );
    const candidates = freeSubnets(
      this.options.pool ?? process.env.TCPREPRO_POOL ?? DEFAULT_POOL,
      used,
    );
    // In parallel: each takes the next free candidate; a block another run took meanwhile is
    // refused by the engine as an overlap, and we move on to the next one.
    await Promise.all(
      plan.networks.map(async (net) => {
        for (;;) {
          const subnet = candidates.shift();
          if (!subnet)
            throw new RuntimeUnavailableError(
              "no free /24 left in the address pool: run `tcprepro clean` or set --pool",
            );
          try {
            await this.docker.createNetwork({
              Name: `tcprepro-${plan.runId}-${net.name}`,
              Driver: "bridge",
              // Internal: no route out of the topology, whatever a scenario sends.
              Internal: true,
              CheckDuplicate: true,
              IPAM: {
                Driver: "default",
                Config: [{ Subnet: subnet, Gateway: hostAddress(subnet, 1) }],
              },
              Labels: this.labels(plan.runId),
            });
            topology.subnets[net.name] = subnet;
            return;
          } catch (err) {
            if (/overlap/i.test((err as Error).message)) continue;
            throw err;
          }
        }
      }),
    );
  }

  private async createNodes(
    plan: TopologyPlan,
    topology: SweptTopology,
    image: string,
  ): Promise<void> {
    const limit = pLimit(8);
    await Promise.all(
      plan.nodes.map((node, i) =>
        limit(async () => {
          const addresses: Record<string, string> = {};
          for (const net of node.networks)
            addresses[net] = hostAddress(topology.subnets[net]!, FIRST_HOST + i);
          const netName = (n: string) => `tcprepro-${plan.runId}-${n}`;
          const [first, ...rest] = node.networks;
          const container = node.container
            ? await joinExisting(
                this.docker,
                node.container,
                node.networks.map((n) => ({ network: netName(n), address: addresses[n]! })),
              )
            : await this.docker.createContainer({
                name: containerName(plan.runId, node.name),
                Hostname: node.name.replaceAll(".", "-"),
                Image: node.image ?? image,
                Cmd: node.image ? node.command : undefined,
                Labels: { ...this.labels(plan.runId), "tcprepro.node": node.name },
                HostConfig: {
                  NetworkMode: netName(first!),
                  Sysctls: node.sysctls,
                  // iptables rules, tcpdump and hping3 inside the node's own namespace.
                  CapAdd: ["NET_ADMIN", "NET_RAW"],
                },
                NetworkingConfig: {
                  EndpointsConfig: {
                    [netName(first!)]: { IPAMConfig: { IPv4Address: addresses[first!] } },
                  },
                },
              });
          if (!node.container) {
            for (const net of rest) {
              await this.docker.getNetwork(netName(net)).connect({
                Container: container.id,
                EndpointConfig: { IPAMConfig: { IPv4Address: addresses[net] } },
              });
            }
            await container.start();
          }
          const info = await container.inspect();
          const pid = info.State.Pid;
          const local = pid > 0 && existsSync(`/proc/${pid}/net/netstat`) && isOurs(pid);
          const started = new DockerNode(node.name, addresses, container, local ? pid : undefined);
          await dropDefaultRoute(started, local ? pid : undefined);
          topology.nodes.set(node.name, started);
        }),
      ),
    );
  }

  async remove(runId: string): Promise<void> {
    await removeRun(this.docker, runId);
  }

  async clean({ all }: { all: boolean }): Promise<CleanResult> {
    // Switches first: one listed now belongs to a run whose containers already exist, so a run
    // with a switch and no container in the listing below is one that is gone.
    const switches = await switchRunIds();
    const containers = await this.docker.listContainers({ all: true, filters: { label: [LABEL] } });
    const networks = await this.docker.listNetworks({ filters: { label: [LABEL] } });
    // A lab's process is gone by design: it is left for `lab down` (or `clean --all`).
    const dead = (labels: Record<string, string> | undefined) =>
      all ||
      (!labels?.[LABEL_LAB] &&
        !ownerIsAlive({ host: labels?.[LABEL_HOST], pid: Number(labels?.[LABEL_PID]) }));
    const doomedRuns = new Set<string>();
    for (const c of containers) if (dead(c.Labels)) doomedRuns.add(c.Labels[LABEL_RUN] ?? "");
    for (const n of networks) if (dead(n.Labels)) doomedRuns.add(n.Labels?.[LABEL_RUN] ?? "");
    const withContainers = new Set(containers.map((c) => c.Labels[LABEL_RUN]));
    for (const runId of switches) if (all || !withContainers.has(runId)) doomedRuns.add(runId);
    const removed: CleanResult[] = [];
    for (const runId of doomedRuns) removed.push(await removeRun(this.docker, runId));
    return sumClean(removed);
  }
}

/** Remove every lab (`tcprepro lab down`), whichever process made it. */
export async function removeLabs(docker: Docker): Promise<CleanResult> {
  const filter = { label: [`${LABEL_LAB}=1`] };
  const runs = new Set<string>();
  for (const c of await docker.listContainers({ all: true, filters: filter }))
    runs.add(c.Labels[LABEL_RUN] ?? "");
  for (const n of await docker.listNetworks({ filters: filter }))
    runs.add(n.Labels?.[LABEL_RUN] ?? "");
  const removed: CleanResult[] = [];
  for (const runId of runs) if (runId) removed.push(await removeRun(docker, runId));
  return sumClean(removed);
}

/** A PID from the engine is ours to read only when the engine runs on this host's kernel. */
function isOurs(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/cmdline`);
    return true;
  } catch {
    return false;
  }
}

/**
 * A container someone else started (a testcontainers StartedTestContainer) joins the run's
 * networks with the planned addresses. It is not ours: teardown disconnects it, never removes it.
 */
async function joinExisting(
  docker: Docker,
  idOrName: string,
  endpoints: { network: string; address: string }[],
): Promise<Docker.Container> {
  const container = docker.getContainer(idOrName);
  const info = await container.inspect().catch(() => undefined);
  if (!info) throw new UsageError(`no container "${idOrName}" to join to the topology`);
  if (!info.State.Running) throw new UsageError(`container "${idOrName}" is not running`);
  for (const { network, address } of endpoints)
    await docker.getNetwork(network).connect({
      Container: info.Id,
      EndpointConfig: { IPAMConfig: { IPv4Address: address } },
    });
  return container;
}

/** Remove every container and network labelled with `runId`. */
async function removeRun(docker: Docker, runId: string): Promise<CleanResult> {
  const filter = { label: [`${LABEL_RUN}=${runId}`] };
  // The switch first (~10 ms; its deletion takes every veth pair of the run): a switch is then
  // never left without its run's containers except by a failure, which is what `clean` and
  // the tests take an orphan switch to mean.
  const bridges = await removeSwitch(runId);
  const containers = await docker.listContainers({ all: true, filters: filter });
  await Promise.all(
    containers.map(async (c) => {
      const container = docker.getContainer(c.Id);
      // A paused container cannot be killed until it is thawed.
      if (c.State === "paused") await container.unpause().catch(() => undefined);
      await container.remove({ force: true, v: true }).catch(async (err: Error) => {
        if (/no such container/i.test(err.message)) return;
        if (!/is already in progress/i.test(err.message)) throw err;
        // Another sweep of this run (an interrupt's, beside the variant's own teardown) is
        // removing it: return only once it is gone, or the process may exit with the engine
        // still removing, and the container is listed as left.
        await waitFor(
          () =>
            container.inspect().then(
              () => undefined,
              () => true,
            ),
          10_000,
          `container ${c.Id.slice(0, 12)} removed`,
          50,
        ).catch(() => undefined);
      });
    }),
  );
  const networks = await docker.listNetworks({ filters: filter });
  await Promise.all(
    networks.map(async (n) => {
      // What is still attached is not ours (a joined container): detach it, leave it running.
      const net = docker.getNetwork(n.Id);
      const attached = (await net.inspect().catch(() => undefined))?.Containers ?? {};
      for (const id of Object.keys(attached))
        await net.disconnect({ Container: id, Force: true }).catch(() => undefined);
    }),
  );
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch((err: Error) => {
          if (!/no such network|not found/i.test(err.message)) throw err;
        }),
    ),
  );
  return { nodes: containers.length, networks: networks.length + bridges, other: 0 };
}

export { removeRun, containerName };
