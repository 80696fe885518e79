/**
 * Picks and opens the runtime for commands that need one. `--runtime docker|netns`; by default
 * docker when an engine answers, else network namespaces when we have the privileges, and the
 * choice is said with its reason.
 */
import { connectDocker, DockerRuntime } from "../runtime/docker/docker-runtime.js";
import { NetnsRuntime } from "../runtime/netns/netns-runtime.js";
import type { Runtime } from "../runtime/runtime.js";
import { DEFAULT_POOL, parseCidr } from "../runtime/subnets.js";
import { RuntimeUnavailableError, UsageError } from "../util/errors.js";

export type RuntimeName = "docker" | "netns" | "vm" | "auto";

export interface EngineOptions {
  runtime?: RuntimeName;
  pool?: string;
  base?: string;
}

export function parseRuntimeName(value: string): RuntimeName {
  if (value === "docker" || value === "netns" || value === "vm" || value === "auto") return value;
  throw new UsageError(`--runtime: "${value}" is not one of docker, netns, vm, auto`);
}

/** `--pool`: checked as a CIDR at once (exit 2); its default is TCPREPRO_POOL, else 198.18.0.0/15. */
export const POOL_OPTION = [
  "--pool <cidr>",
  "address pool for the networks (default: TCPREPRO_POOL, else 198.18.0.0/15)",
  (value: string): string => {
    try {
      parseCidr(value);
    } catch (err) {
      throw new UsageError(`--pool: ${(err as Error).message}`);
    }
    return value;
  },
] as const;

/** The pool a run uses when --pool is not given, checked like --pool. */
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

const privileged = () => process.getuid?.() === 0;

export async function openRuntime(
  opts: EngineOptions,
  say: (message: string) => void = () => undefined,
): Promise<Runtime> {
  const choice = opts.runtime === "vm" || !opts.runtime ? "auto" : opts.runtime;
  const pool = opts.pool ?? defaultPool();
  if (choice === "netns") return new NetnsRuntime({ pool });
  if (choice === "docker")
    return new DockerRuntime(await connectDocker(), { pool, baseImage: opts.base });
  try {
    const runtime = new DockerRuntime(await connectDocker(), {
      pool,
      baseImage: opts.base,
    });
    say("runtime: docker (an engine answers; --runtime netns for network namespaces)");
    return runtime;
  } catch (err) {
    if (!(err instanceof RuntimeUnavailableError)) throw err;
    if (!privileged()) {
      throw new RuntimeUnavailableError(
        `${err.message}; or run as root to use the netns runtime (network namespaces, no engine needed)`,
      );
    }
    say(
      `runtime: netns, because ${err.message.split(":")[0]} (running as root: network namespaces need no engine)`,
    );
    return new NetnsRuntime({ pool });
  }
}
