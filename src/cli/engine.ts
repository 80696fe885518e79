/** The CLI's runtime flags: `--runtime` and `--pool`, checked as they are parsed (exit 2). */
import { parseCidr } from "../runtime/subnets.js";
import { parseCidr6 } from "../runtime/subnets6.js";
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

/** `--pool6`: the IPv6 pool, checked at once (exit 2); default TCPREPRO_POOL6, else 2001:2::/48. */
export const POOL6_OPTION = [
  "--pool6 <cidr>",
  "IPv6 address pool, a /64 per network (default: TCPREPRO_POOL6, else 2001:2::/48)",
  (value: string): string => {
    try {
      parseCidr6(value);
    } catch (err) {
      throw new UsageError(`--pool6: ${(err as Error).message}`);
    }
    return value;
  },
] as const;

/** `--family ipv6`: scenarios that pin no family run over IPv6 instead. */
export const FAMILY_OPTION = [
  "--family <family>",
  "ipv4 or ipv6: the family of scenarios that pin none (default ipv4)",
  (value: string): "ipv4" | "ipv6" => {
    if (value !== "ipv4" && value !== "ipv6")
      throw new UsageError(`--family: expected ipv4 or ipv6, got "${value}"`);
    return value;
  },
] as const;
