/**
 * `tcprepro setup`, the deciding part: what this machine has (MachineFacts) → what to do, in
 * order (the Debian packages, the engine, the images, the kernels). Pure, so the decisions are
 * tested on made-up machines; probing and doing are in setup/apply.ts.
 */
import { createHash } from "node:crypto";
import { RuntimeUnavailableError } from "../util/errors.js";

/** The engine the tools look for when DOCKER_HOST is not set. */
export const DEFAULT_SOCKET = "/var/run/docker.sock";

/** Host programs tcprepro uses, with the Debian package that brings each. */
export const HOST_PROGRAMS: ReadonlyArray<{ program: string; pkg: string; why: string }> = [
  { program: "gcc", pkg: "gcc", why: "compiles the agent" },
  { program: "debootstrap", pkg: "debootstrap", why: "makes the offline base image" },
  { program: "iptables", pkg: "iptables", why: "the engine's NAT and the netns runtime's faults" },
  { program: "ip", pkg: "iproute2", why: "the netns runtime's links" },
  { program: "tcpdump", pkg: "tcpdump", why: "captures in the netns runtime" },
  { program: "hping3", pkg: "hping3", why: "SYN floods in the netns runtime" },
];

/** What the VM runtime's kernel fetch unpacks with (only with --kernels). */
export const KERNEL_PROGRAMS: ReadonlyArray<{ program: string; pkg: string; why: string }> = [
  { program: "xz", pkg: "xz-utils", why: "unpacks kernel modules" },
  { program: "zstd", pkg: "zstd", why: "unpacks kernel modules" },
];

export interface MachineFacts {
  uid: number;
  /** program → found (path) or not (null), for HOST_PROGRAMS, KERNEL_PROGRAMS and dockerd. */
  programs: Record<string, string | null>;
  /** libc.a, which `gcc -static` links (libc6-dev). */
  staticLibc: boolean;
  aptGet: boolean;
  /** DOCKER_HOST as set (undefined: the default socket). */
  dockerHost: string | undefined;
  /** An engine answers where DOCKER_HOST (or the default) points; its version when it does. */
  engine: string | null;
  /** The node image (by its content tag) and the agent binary are there. */
  images: { tag: string; present: boolean | null; agent: boolean };
  /** Kernels asked for, and whether each is in the cache. */
  kernels: Array<{ version: string; cached: boolean }>;
}

/** How to start an engine where the tools will look for it. */
export interface EngineLaunch {
  argv: string[];
  log: string;
  socket: string;
  /** A bridge of its own, made before the engine starts (`--bridge` takes an existing one). */
  bridge?: string;
}

export type Step =
  | { kind: "packages"; packages: string[] }
  | { kind: "engine"; launch: EngineLaunch }
  /** `what`: the agent alone (the node image is there), or the images too. */
  | { kind: "images"; what: string }
  | { kind: "kernels"; versions: string[] };

export interface Plan {
  steps: Step[];
  /** What is already there, one phrase each: said when there is nothing to do. */
  present: string[];
}

/**
 * The engine to start when none answers. The default socket gets a plain `dockerd`. A socket of
 * one's own (DOCKER_HOST=unix:///some/d.sock) gets a private engine beside any other on the
 * machine: its own data, exec root and pidfile next to the socket, a default bridge of its own,
 * and no iptables rules (two engines rewriting the same chains would break each other's networks;
 * tcprepro's networks are internal and need neither). Not `--bridge none`: an engine started so
 * deletes the host's docker0 at start (moby's removeDefaultBridgeInterface), which leaves the
 * machine's own engine unable to start a container on its default network.
 */
export function engineLaunch(dockerHost: string | undefined): EngineLaunch {
  if (!dockerHost || dockerHost === `unix://${DEFAULT_SOCKET}`)
    return { argv: ["dockerd"], log: "/var/log/tcprepro-dockerd.log", socket: DEFAULT_SOCKET };
  if (!dockerHost.startsWith("unix://"))
    throw new RuntimeUnavailableError(
      `no Docker engine answers at ${dockerHost}: tcprepro setup starts only a local engine (a unix:// socket); start that one, or unset DOCKER_HOST`,
    );
  const socket = dockerHost.slice("unix://".length);
  const dir = `${socket}.d`;
  // An interface name (at most 15 bytes) told apart per socket.
  const bridge = `tcprepro-${createHash("sha256").update(socket).digest("hex").slice(0, 6)}`;
  return {
    argv: [
      "dockerd",
      "--host",
      dockerHost,
      "--data-root",
      `${dir}/data`,
      "--exec-root",
      `${dir}/exec`,
      "--pidfile",
      `${dir}/dockerd.pid`,
      "--bridge",
      bridge,
      "--iptables=false",
    ],
    log: `${dir}/dockerd.log`,
    socket,
    bridge,
  };
}

/** Everything setup would do here, in order; throws (exit 2) for what it cannot do itself. */
export function plan(f: MachineFacts): Plan {
  if (f.uid !== 0)
    throw new RuntimeUnavailableError(
      "tcprepro setup installs Debian packages and starts the Docker engine: run it as root (sudo npx tcprepro setup)",
    );
  const steps: Step[] = [];
  const present: string[] = [];
  const wanted = [...HOST_PROGRAMS, ...(f.kernels.length > 0 ? KERNEL_PROGRAMS : [])];
  const packages = new Set(wanted.filter((p) => !f.programs[p.program]).map((p) => p.pkg));
  if (!f.staticLibc) packages.add("libc6-dev");
  if (!f.engine && !f.programs.dockerd) packages.add("docker.io");
  if (packages.size > 0) {
    if (!f.aptGet)
      throw new RuntimeUnavailableError(
        `this machine lacks ${[...packages].join(", ")} (Debian's names) and has no apt-get: install them with its package manager, then run tcprepro setup again`,
      );
    steps.push({ kind: "packages", packages: [...packages].sort() });
  } else present.push(`packages (${wanted.map((p) => p.pkg).join(", ")}, libc6-dev)`);

  if (f.engine) present.push(`engine ${f.engine} at ${f.dockerHost ?? DEFAULT_SOCKET}`);
  else steps.push({ kind: "engine", launch: engineLaunch(f.dockerHost) });

  // An engine just started has no images: build them then too.
  if (!f.engine || !f.images.present)
    steps.push({
      kind: "images",
      what: f.images.agent ? "the images" : "the agent and the images",
    });
  else if (!f.images.agent) steps.push({ kind: "images", what: "the agent" });
  else present.push(`image ${f.images.tag}`);

  const fetch = f.kernels.filter((k) => !k.cached).map((k) => k.version);
  if (fetch.length > 0) steps.push({ kind: "kernels", versions: fetch });
  const cached = f.kernels.filter((k) => k.cached).map((k) => k.version);
  if (cached.length > 0) present.push(`kernel${cached.length > 1 ? "s" : ""} ${cached.join(", ")}`);
  return { steps, present };
}
