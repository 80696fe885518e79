/**
 * Picks and opens the runtime: `docker`, `netns`, or by default docker when an engine answers,
 * else network namespaces when we have the privileges; the choice is said with its reason.
 * The CLI and the API (`run`, `startLab`) both open runtimes here.
 */
import { connectDocker, DockerRuntime } from "./docker/docker-runtime.js";
import { NetnsRuntime } from "./netns/netns-runtime.js";
import type { Runtime } from "./runtime.js";
import { DEFAULT_POOL, parseCidr } from "./subnets.js";
import { RuntimeUnavailableError, UsageError } from "../util/errors.js";

export type RuntimeName = "docker" | "netns" | "vm" | "auto";

export interface EngineOptions {
  runtime?: RuntimeName;
  pool?: string;
  base?: string;
}

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
  const docker = async () =>
    new DockerRuntime(await connectDocker(), { pool, baseImage: opts.base });
  if (choice === "netns") return new NetnsRuntime({ pool });
  if (choice === "docker") return docker();
  try {
    const runtime = await docker();
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
