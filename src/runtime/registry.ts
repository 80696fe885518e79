/**
 * Every runtime, by name, one entry each: how to open it, what it can do, and how to sweep
 * what dead runs left. `--runtime`, `auto`, `clean`, `doctor` and the help texts iterate this
 * table; nothing above src/runtime/ names a runtime. A new runtime is a module and a line here.
 */
import { connectDocker, DockerRuntime, removeLabs } from "./docker/docker-runtime.js";
import { ensureImages } from "./docker/images.js";
import { NetnsRuntime } from "./netns/netns-runtime.js";
import type { CleanResult, Runtime, RuntimeCapabilities } from "./runtime.js";
import { DEFAULT_POOL, parseCidr } from "./subnets.js";
import { DEFAULT_POOL6, parseCidr6 } from "./subnets6.js";
import { RuntimeUnavailableError, UsageError } from "../util/errors.js";
import { type KernelSpec, VmRuntime } from "../vm/vm-runtime.js";
import { cleanVms } from "../vm/qemu.js";
import type { AccelRequest } from "../vm/accel.js";

export interface OpenOptions {
  /** Address pool for the networks. @default TCPREPRO_POOL, else 198.18.0.0/15 */
  pool?: string;
  /** IPv6 address pool (/64 per network). @default TCPREPRO_POOL6, else 2001:2::/48 */
  pool6?: string;
  /** Base image of the node image (runtimes with container images). */
  base?: string;
  /** The kernel to boot (runtimes that boot one: `bootsKernel`). */
  kernel?: KernelSpec;
  /** Objects made for a lab (`lab up`): they outlive the process; see `labs`. */
  lab?: boolean;
  /** The accelerator of runtimes that boot a kernel (`--accel`). @default TCPREPRO_ACCEL, else auto */
  accel?: AccelRequest;
  /**
   * This machine's cores the target may count on: all of them, or their share when several
   * targets run at once (a fraction when there are more targets than cores): a VM's vCPUs and
   * its variants side by side follow. @default 1
   */
  cores?: number;
}

export interface RuntimeEntry {
  readonly name: string;
  /** One line for help texts and `doctor`. */
  readonly description: string;
  /** What it can do, known before it is opened. */
  readonly capabilities: Omit<RuntimeCapabilities, "maxParallel">;
  /**
   * Boots a kernel of its own (a VM): it needs `kernel`, and is never picked by `auto` (a run
   * on `host` is a run on this machine's kernel).
   */
  readonly bootsKernel: boolean;
  /** Why it cannot be used here at all (a cheap check), or undefined. */
  unavailable?(): string | undefined;
  open(options: OpenOptions): Promise<Runtime>;
  /** Remove what runs left behind (`all`: every run's, labs too). */
  clean(all: boolean): Promise<CleanResult & { note?: string }>;
  /** What `clean` removed, in this runtime's words: `3 container(s), 1 network(s)`. */
  describeClean(r: CleanResult): string;
  /**
   * Labs it can leave standing after the process exits (`lab up`), and how `lab down` removes
   * them; absent: no labs on this runtime.
   */
  labs?: { down(): Promise<CleanResult> };
  /**
   * Builds what its nodes run (`tcprepro images build`), even when present with `force`;
   * resolves to what was built (an image tag). Absent: nothing to build ahead of a run.
   */
  buildImages?(o: {
    base?: string;
    force: boolean;
    progress: (message: string) => void;
  }): Promise<string>;
}

const root = () => process.getuid?.() === 0;

const docker: RuntimeEntry = {
  name: "docker",
  description: "containers on a Docker engine (user images, the cgroup freezer)",
  capabilities: { userImages: true, pause: "freeze", dropReasons: true, ownsKernel: false },
  bootsKernel: false,
  open: async (o) =>
    new DockerRuntime(await connectDocker(), {
      pool: poolOf(o),
      pool6: o.pool6,
      baseImage: o.base,
      lab: o.lab,
    }),
  labs: { down: async () => removeLabs(await connectDocker()) },
  buildImages: async (o) => ensureImages(await connectDocker(), o),
  describeClean: (r) => `${r.nodes} container(s), ${r.networks} network(s)`,
  clean: async (all) => {
    try {
      return await new DockerRuntime(await connectDocker()).clean({ all });
    } catch (err) {
      if (!(err instanceof RuntimeUnavailableError)) throw err;
      return { nodes: 0, networks: 0, other: 0, note: "no Docker engine answers: not checked" };
    }
  },
};

const netns: RuntimeEntry = {
  name: "netns",
  description: "network namespaces on this host, as root (no engine needed)",
  capabilities: {
    userImages: { reason: "network namespaces run no container images" },
    pause: "sigstop",
    dropReasons: true,
    ownsKernel: false,
  },
  bootsKernel: false,
  unavailable: () => (root() ? undefined : "network namespaces need root"),
  open: async (o) => new NetnsRuntime({ pool: poolOf(o), pool6: o.pool6 }),
  describeClean: (r) => `${r.nodes} namespace node(s), ${r.networks} namespace network(s)`,
  clean: async (all) =>
    root()
      ? new NetnsRuntime().clean({ all })
      : { nodes: 0, networks: 0, other: 0, note: "not root: not checked" },
};

const vm: RuntimeEntry = {
  name: "vm",
  description: "network namespaces in a VM booted on a fetched kernel (QEMU)",
  capabilities: {
    userImages: { reason: "the vm runtime runs no container images (use --runtime docker)" },
    pause: "sigstop",
    dropReasons: true,
    ownsKernel: true,
  },
  bootsKernel: true,
  open: async (o) => {
    if (!o.kernel) throw new UsageError("the vm runtime needs a kernel to boot");
    return new VmRuntime(o.kernel, {
      pool: o.pool,
      pool6: o.pool6,
      accel: o.accel,
      cores: o.cores,
    });
  },
  describeClean: (r) => `${r.nodes} VM(s)`,
  clean: async (all) => ({ nodes: await cleanVms(all), networks: 0, other: 0 }),
};

/** In the order `auto` tries them. */
export const RUNTIMES: readonly RuntimeEntry[] = [docker, netns, vm];

export const RUNTIME_NAMES = RUNTIMES.map((r) => r.name);

/** `--runtime` and `runtime:` accept these, and `auto`. */
export type RuntimeName = string;

export function runtimeEntry(name: string): RuntimeEntry {
  const entry = RUNTIMES.find((r) => r.name === name);
  if (!entry)
    throw new UsageError(
      `runtime "${name}" is not registered: choose from ${[...RUNTIME_NAMES, "auto"].join(", ")}`,
    );
  return entry;
}

/** Checks a runtime name as given (a flag, an option): exit 2 listing the registered ones. */
export function checkRuntimeName(name: string): string {
  if (name !== "auto") runtimeEntry(name);
  return name;
}

/** One line per runtime, for help texts. */
export function describeRuntimes(): string {
  const auto = RUNTIMES.filter((r) => !r.bootsKernel).map((r) => r.name);
  return (
    RUNTIMES.map((r) => `${r.name}: ${r.description}`).join("; ") +
    `; auto: the first of ${auto.join(", ")} that can run here`
  );
}

/** The pool a run uses when none is given, checked like --pool. */
export function defaultPool(): string {
  const env = process.env.TCPREPRO_POOL;
  if (!env) return DEFAULT_POOL;
  try {
    parseCidr(env);
  } catch (err) {
    throw new UsageError(`TCPREPRO_POOL: ${(err as Error).message}`);
  }
  return env;
}

/** The IPv6 pool a run uses when none is given, checked like --pool6 (TCPREPRO_POOL6). */
export function defaultPool6(): string {
  const env = process.env.TCPREPRO_POOL6;
  if (!env) return DEFAULT_POOL6;
  try {
    parseCidr6(env);
  } catch (err) {
    throw new UsageError(`TCPREPRO_POOL6: ${(err as Error).message}`);
  }
  return env;
}

const poolOf = (o: OpenOptions) => o.pool ?? defaultPool();
const pool6Of = (o: OpenOptions) => o.pool6 ?? defaultPool6();

/**
 * A runtime on this machine's kernel: the one named, or with `auto` the first in the table that
 * can run here (the choice is said with its reason).
 */
export async function openHostRuntime(
  name: string,
  options: OpenOptions,
  say: (message: string) => void = () => undefined,
): Promise<Runtime> {
  if (name !== "auto") {
    const entry = runtimeEntry(name);
    if (options.lab && !entry.labs)
      throw new UsageError(
        `the ${name} runtime keeps no labs: use ${labRuntimes().join(" or ")} for \`lab up\``,
      );
    if (entry.bootsKernel)
      throw new UsageError(`the ${name} runtime boots its own kernel: it cannot run on the host's`);
    return entry.open({ ...options, pool: poolOf(options), pool6: pool6Of(options) });
  }
  const why: string[] = [];
  /** Each skipped runtime's reason, first clause only: what `say` tells. */
  const short: string[] = [];
  for (const entry of RUNTIMES.filter((r) => !r.bootsKernel && (!options.lab || r.labs))) {
    const reason = entry.unavailable?.();
    if (reason) {
      why.push(`${entry.name}: ${reason}`);
      short.push(reason);
      continue;
    }
    try {
      const runtime = await entry.open({
        ...options,
        pool: poolOf(options),
        pool6: pool6Of(options),
      });
      say(
        short.length === 0
          ? `runtime: ${entry.name} (the first that can run here; --runtime to choose one of ${RUNTIME_NAMES.join(", ")})`
          : `runtime: ${entry.name}, because ${short.join("; ")} (${entry.description})`,
      );
      return runtime;
    } catch (err) {
      if (!(err instanceof RuntimeUnavailableError)) throw err;
      why.push(`${entry.name}: ${err.message}`);
      short.push(err.message.split(":")[0]!);
    }
  }
  throw new RuntimeUnavailableError(
    `no runtime can run here: ${why.join("; ")}. Start a Docker engine, or run as root for network namespaces`,
  );
}

/** A runtime on a kernel of its own (a VM booted on `kernel`): the named one, or the first. */
export async function openKernelRuntime(
  kernel: KernelSpec,
  options: Omit<OpenOptions, "kernel">,
  name?: string,
): Promise<Runtime> {
  const named = name && name !== "auto" ? runtimeEntry(name) : undefined;
  const entry = named?.bootsKernel ? named : RUNTIMES.find((r) => r.bootsKernel);
  if (!entry) throw new UsageError("no registered runtime boots a kernel of its own");
  return entry.open({ ...options, pool6: pool6Of(options), kernel });
}

/** Runtimes that can leave a lab standing. */
export function labRuntimes(): string[] {
  return RUNTIMES.filter((r) => r.labs).map((r) => r.name);
}
