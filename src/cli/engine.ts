/** Picks and prepares the runtime for commands that need one. */
import { connectDocker, DockerRuntime } from "../runtime/docker/docker-runtime.js";
import type { Runtime } from "../runtime/runtime.js";

export interface EngineOptions {
  pool?: string;
  base?: string;
}

export async function openRuntime(opts: EngineOptions): Promise<Runtime> {
  const docker = await connectDocker();
  return new DockerRuntime(docker, { pool: opts.pool, baseImage: opts.base });
}
