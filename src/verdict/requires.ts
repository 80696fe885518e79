/** `requires:` and what the expectations need, against the kernel at hand → a SKIP reason or nothing. */
import type { KernelInventory, RuntimeCapabilities } from "../runtime/runtime.js";
import { runsUserSoftware } from "../scenario/semantics-user.js";
import type { Scenario } from "../scenario/schema.js";

export type { KernelInventory };

/** "6.18.44-fc" → [6, 18, 44]. */
export function kernelVersion(release: string): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

function cmpVersion(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** ">=4.10", ">=3.10, <4.12" */
export function kernelSatisfies(release: string, range: string): boolean {
  const v = kernelVersion(release);
  return range.split(",").every((part) => {
    const m = /^\s*(>=|<=|>|<|==)?\s*(\d+(?:\.\d+){0,2})\s*$/.exec(part);
    if (!m) return false;
    const d = cmpVersion(v, m[2]!.split(".").map(Number));
    switch (m[1] ?? ">=") {
      case ">=":
        return d >= 0;
      case "<=":
        return d <= 0;
      case ">":
        return d > 0;
      case "<":
        return d < 0;
      default:
        return d === 0;
    }
  });
}

export const OWN_KERNEL_REASON =
  "needs a runtime that owns the whole kernel (gc_thresh is global): --runtime vm";

/** Why this scenario cannot run on this kernel, or undefined when it can. */
export function skipReason(s: Scenario, k: KernelInventory): string | undefined {
  if (s.requires.kernel && !kernelSatisfies(k.release, s.requires.kernel))
    return `needs kernel ${s.requires.kernel}; this is ${k.release}`;
  if (k.noDropReasons && Object.keys(s.expect.drops ?? {}).length > 0)
    return `expects drop reasons: ${k.noDropReasons}`;
  const sysctls = new Set(s.requires.sysctls ?? []);
  for (const node of Object.values(s.nodes))
    for (const name of Object.keys(node.sysctls)) sysctls.add(name);
  for (const name of sysctls) {
    if (!k.sysctlExists(name)) return `sysctl ${name} does not exist on kernel ${k.release}`;
    if (k.sysctlPerNetns && !k.sysctlPerNetns(name))
      return `sysctl ${name} is not per network namespace on kernel ${k.release} (only the initial namespace has it): a node cannot set it`;
  }
  const counters = new Set(s.requires.counters ?? []);
  for (const perNode of Object.values(s.expect.counters ?? {}))
    for (const name of Object.keys(perNode)) counters.add(name);
  for (const name of counters) {
    if (!k.counters.has(name)) return `counter ${name} does not exist on kernel ${k.release}`;
  }
  return undefined;
}

/** Why this runtime cannot run this scenario (a node it cannot run), or undefined when it can. */
export function capabilitySkipReason(
  s: Scenario,
  caps: RuntimeCapabilities,
  runtime: string,
  release: string,
): string | undefined {
  // The kernel-wide knobs of such a scenario must never reach a shared host's kernel.
  if (s.requires.ownKernel && !caps.ownsKernel) return OWN_KERNEL_REASON;
  if (!caps.dropReasons && Object.keys(s.expect.drops ?? {}).length > 0)
    return `expects drop reasons, which the ${runtime} runtime does not trace (kernel ${release})`;
  if (caps.userImages !== true) {
    const [name, node] = Object.entries(s.nodes).find(([, n]) => runsUserSoftware(n)) ?? [];
    if (node)
      return `node ${name} runs ${node.image ? `image ${node.image}` : "its own image (build or packages)"}: ${caps.userImages.reason}`;
  }
  return undefined;
}
