/** The CLI's runtime flags: `--runtime` and `--pool`, checked as they are parsed (exit 2). */
import { parseCidr } from "../runtime/subnets.js";
import { checkRuntimeName, describeRuntimes } from "../runtime/registry.js";
import { UsageError } from "../util/errors.js";

export { defaultPool } from "../runtime/registry.js";

/** `--runtime <name>`: any registered runtime or `auto`; the help lists the registry. */
export const RUNTIME_OPTION = [
  "--runtime <name>",
  describeRuntimes(),
  (value: string): string => checkRuntimeName(value),
  "auto",
] as const;

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
