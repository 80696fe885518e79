/**
 * The kernel's own word on each dropped packet: tracepoint skb:kfree_skb carries a `reason`
 * (TCP_LISTEN_OVERFLOW, NETFILTER_DROP, NO_SOCKET, TCP_RFC7323_TW_PAWS, …). One trace instance
 * per variant (instances/tcprepro-<runId>), filtered to IPv4.
 *
 * Attribution is by time window: the tracepoint is global to the host, and its event carries no
 * network namespace, so the counts are "every IPv4 drop on this host while the variant ran" —
 * variants run in parallel see each other's. And drop reasons complement the counters, they do
 * not replace them: a SYN dropped because the accept queue is full is consumed, not freed with a
 * reason (docs/kernel-behaviour.md#drop-reasons); TCP_LISTEN_OVERFLOW is a final ACK meeting a full queue.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { DropReasons } from "../model/evidence.js";
import { onInterrupt } from "../util/interrupts.js";

export type { DropReasons };

/** ETH_P_IP, ETH_P_IPV6: the tracepoint records skb->protocol in host order. */
const IPV4 = 2048;
const IPV6 = 34525;

/** The tracepoint filter: IPv4 drops, and IPv6 ones for a topology with IPv6 networks. */
export function dropFilter(ipv6: boolean): string {
  return ipv6 ? `protocol == ${IPV4} || protocol == ${IPV6}` : `protocol == ${IPV4}`;
}

let unavailable: string | undefined;

const TRACEFS = "/sys/kernel/tracing";

/**
 * tracefs at its standard place; mounted there when it is not (root only). It is left mounted:
 * a per-run mount elsewhere would outlive a SIGKILLed run, and this is where the kernel's own
 * tooling expects it. Per-run state lives in instances/, which `tcprepro clean` sweeps.
 */
function tracefsRoot(): string | { error: string } {
  for (const candidate of [TRACEFS, "/sys/kernel/debug/tracing"]) {
    if (existsSync(join(candidate, "instances"))) return candidate;
  }
  const mounted = spawnSync("mount", ["-t", "tracefs", "nodev", TRACEFS], { encoding: "utf8" });
  if (mounted.status !== 0 || !existsSync(join(TRACEFS, "instances"))) {
    return {
      error: `tracefs could not be mounted (${(mounted.stderr || mounted.error?.message || "").trim() || "not root?"})`,
    };
  }
  return TRACEFS;
}

/** Is the tcprepro process that owns an instance still running? */
function ownerAlive(pid: number): boolean {
  try {
    return /tcprepro|tsx|node|vitest/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Remove the trace instances of runs whose process is gone (a SIGKILLed run cannot remove its
 * own, and it would go on tracing); with `all`, every tcprepro instance. Instances are named
 * `tcprepro-<runId>-p<pid>` so that this needs no runtime to tell.
 */
export function removeOrphanTraceInstances(all = false): number {
  const root = [TRACEFS, "/sys/kernel/debug/tracing"].find((c) => existsSync(join(c, "instances")));
  if (!root) return 0;
  let removed = 0;
  for (const name of readdirSync(join(root, "instances"))) {
    const m = /^tcprepro-.+-p(\d+)$/.exec(name);
    if (!m || (!all && ownerAlive(Number(m[1])))) continue;
    const dir = join(root, "instances", name);
    try {
      writeFileSync(join(dir, "events/skb/kfree_skb/enable"), "0");
    } catch {
      // the event may not be enabled
    }
    try {
      rmdirSync(dir);
      removed++;
    } catch {
      // busy: a reader still has it open; the next clean gets it
    }
  }
  return removed;
}

export class DropReasonTracer {
  private constructor(
    private readonly instance: string,
    private readonly release: () => void,
    private readonly untrack: () => void,
    private readonly ipv6 = false,
  ) {}

  /** Start tracing, or return why it is not possible (said once per process by the caller). */
  static start(runId: string, ipv6 = false): DropReasonTracer | string {
    if (unavailable) return unavailable;
    const root = tracefsRoot();
    if (typeof root !== "string") return (unavailable = root.error);
    const instance = join(root, "instances", `tcprepro-${runId}-p${process.pid}`);
    const release = () => {
      try {
        rmdirSync(instance);
      } catch {
        // already gone
      }
    };
    try {
      mkdirSync(instance);
      const event = join(instance, "events/skb/kfree_skb");
      if (!existsSync(event)) throw new Error("this kernel has no skb:kfree_skb tracepoint");
      writeFileSync(join(event, "filter"), dropFilter(ipv6));
      writeFileSync(join(event, "enable"), "1");
    } catch (err) {
      release();
      return (unavailable = `drop reasons not recorded: ${(err as Error).message}`);
    }
    const untrack = onInterrupt(async () => release());
    return new DropReasonTracer(instance, release, untrack, ipv6);
  }

  stop(): DropReasons {
    try {
      writeFileSync(join(this.instance, "events/skb/kfree_skb/enable"), "0");
      return {
        counts: parseDropReasons(readFileSync(join(this.instance, "trace"), "utf8")),
        note: `every ${this.ipv6 ? "IPv4 and IPv6" : "IPv4"} drop on this host during the variant's run`,
      };
    } finally {
      this.release();
      this.untrack();
    }
  }
}

/** Counts per `reason:` in a trace file of skb:kfree_skb events. */
export function parseDropReasons(trace: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of trace.matchAll(/kfree_skb:.*reason: ([A-Z0-9_]+)/g))
    counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  return counts;
}
