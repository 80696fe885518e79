/** The CLI's runtime flags: `--runtime` and `--pool`, checked as they are parsed (exit 2). */
import { parseCidr } from "../runtime/subnets.js";
import { UsageError } from "../util/errors.js";
import type { RuntimeName } from "../runtime/open.js";

export { defaultPool, openRuntime, type EngineOptions, type RuntimeName } from "../runtime/open.js";

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
