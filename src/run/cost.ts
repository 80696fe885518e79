/**
 * What a variant costs the machine while it runs, from its plan alone: `--parallel auto` packs
 * variants by these weights. Most of the catalog waits on the kernel's own timers (SYN
 * retransmits, keepalive probes, TIME_WAIT) and costs about one topology's up and down; a SYN
 * flood or a burst of thousands of connections keeps cores busy in softirq for its whole length,
 * and two of those side by side on a small machine can move each other's timings (a queue that
 * should overflow drains in time, a deadline is missed). Weights are in "light variants".
 */
import type { RuntimeCapabilities } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";

/**
 * SYNs or connection attempts (at once) that cost about one light variant's CPU. A variant with
 * fewer weighs exactly 1 — a topology's up and down dominate it — so light variants pack
 * exactly `capacity` at a time (a weight of 1.05 would leave a slot of a capacity of 2 empty).
 */
export const ATTEMPTS_PER_UNIT = 1_000;

/**
 * Bytes in flight at once (payloads of the concurrent connections, echoed ones twice) that cost
 * about one light variant: lossy-path's ten concurrent 200 kB echoes (4 MB) keep a VM's vCPU
 * in softirq, and beside three other variants on 2 cores its no-loss variant once lost 1.7 % of
 * its segments (stress, kernel 6.1), where it loses under 0.5 % alone.
 */
export const BYTES_PER_UNIT = 2_000_000;

/**
 * The variant's weight: 1, or one unit per ATTEMPTS_PER_UNIT SYNs flooded plus connections
 * attempted when more (a rate-limited stream counts its attempts per second only: it spreads
 * over its length), or one per BYTES_PER_UNIT in flight at once when more, plus one per command
 * traffic (an unknown program: hping3, curl).
 */
export function variantWeight(s: Scenario): number {
  const replicas = (node: string) => s.nodes[node]?.replicas ?? 1;
  let attempts = 0;
  let bytes = 0;
  let commands = 0;
  for (const f of s.floods ?? []) attempts += f.count;
  for (const t of s.traffic ?? []) {
    if (t.command) {
      commands++;
      continue;
    }
    const all = t.connections * replicas(t.from);
    attempts += t.rate > 0 ? Math.min(all, t.rate * replicas(t.from)) : all;
    const atOnce = Math.min(t.connections, t.concurrency) * replicas(t.from);
    bytes += atOnce * t.payload * (t.expectReply ? 2 : 1);
  }
  return Math.max(1, attempts / ATTEMPTS_PER_UNIT, bytes / BYTES_PER_UNIT) + commands;
}

/**
 * How much weight may run at once: two light variants per CPU — this machine's cores, or a VM's
 * vCPUs (measured on 2 cores: the catalog at `--parallel 4` on the host, and four side by side
 * in a VM of 2 vCPUs, both with 0 disagreements) — or what a VM sharing the cores with other VMs
 * says it takes (`autoParallel`), never more than the runtime takes (`maxParallel`), never less
 * than one.
 */
export function autoCapacity(
  caps: { cpus?: number; autoParallel?: number; maxParallel: number },
  hostCores: number,
): number {
  const cpus = Math.max(1, caps.cpus ?? hostCores);
  return Math.max(1, Math.min(caps.autoParallel ?? 2 * cpus, caps.maxParallel));
}

/**
 * Kernel-wide knobs (`kernelSysctls:`: the neighbour table's thresholds, the conntrack table's
 * size) change every topology on that kernel, so a runtime that owns its kernel runs such a
 * variant with nothing beside it.
 */
export function needsKernelAlone(
  s: Scenario,
  caps: Pick<RuntimeCapabilities, "ownsKernel">,
): boolean {
  return caps.ownsKernel && Object.keys(s.kernelSysctls ?? {}).length > 0;
}
