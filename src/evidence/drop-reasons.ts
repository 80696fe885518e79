/**
 * The kernel's own word on each dropped packet: tracepoint skb:kfree_skb carries a `reason`
 * (TCP_LISTEN_OVERFLOW, NETFILTER_DROP, NO_SOCKET, TCP_RFC7323_TW_PAWS, …). One trace instance
 * per variant, on a tracefs we mount privately (and unmount after), filtered to IPv4.
 *
 * Attribution is by time window: the tracepoint is global to the host, and its event carries no
 * network namespace, so the counts are "every IPv4 drop on this host while the variant ran" —
 * variants run in parallel see each other's. And drop reasons complement the counters, they do
 * not replace them: a SYN dropped because the accept queue is full is consumed, not freed with a
 * reason (GROUND-TRUTH); TCP_LISTEN_OVERFLOW is a final ACK meeting a full queue.
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onInterrupt } from "../util/interrupts.js";

export interface DropReasons {
  /** Count per reason; null when tracing was not available (see `note`). */
  counts: Record<string, number> | null;
  note: string;
}

/** ETH_P_IP: the tracepoint records skb->protocol in host order. */
const IPV4 = 2048;

let unavailable: string | undefined;

/** tracefs: where the host has it mounted, or a private mount of ours (root only). */
function tracefsRoot(): { root: string; unmount?: () => void } | string {
  for (const candidate of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) {
    if (existsSync(join(candidate, "instances"))) return { root: candidate };
  }
  const dir = mkdtempSync(join(tmpdir(), "tcprepro-tracefs-"));
  const mounted = spawnSync("mount", ["-t", "tracefs", "nodev", dir], { encoding: "utf8" });
  if (mounted.status !== 0) {
    rmdirSync(dir);
    return `tracefs could not be mounted (${(mounted.stderr || mounted.error?.message || "").trim() || "not root?"})`;
  }
  return {
    root: dir,
    unmount: () => {
      spawnSync("umount", [dir]);
      rmdirSync(dir);
    },
  };
}

export class DropReasonTracer {
  private constructor(
    private readonly instance: string,
    private readonly release: () => void,
    private readonly untrack: () => void,
  ) {}

  /** Start tracing, or return why it is not possible (said once per process by the caller). */
  static start(runId: string): DropReasonTracer | string {
    if (unavailable) return unavailable;
    const fs = tracefsRoot();
    if (typeof fs === "string") return (unavailable = fs);
    const instance = join(fs.root, "instances", `tcprepro-${runId}`);
    const release = () => {
      try {
        rmdirSync(instance);
      } catch {
        // already gone
      }
      fs.unmount?.();
    };
    try {
      mkdirSync(instance);
      const event = join(instance, "events/skb/kfree_skb");
      if (!existsSync(event)) throw new Error("this kernel has no skb:kfree_skb tracepoint");
      writeFileSync(join(event, "filter"), `protocol == ${IPV4}`);
      writeFileSync(join(event, "enable"), "1");
    } catch (err) {
      release();
      return (unavailable = `drop reasons not recorded: ${(err as Error).message}`);
    }
    const untrack = onInterrupt(async () => release());
    return new DropReasonTracer(instance, release, untrack);
  }

  stop(): DropReasons {
    try {
      writeFileSync(join(this.instance, "events/skb/kfree_skb/enable"), "0");
      return {
        counts: parseDropReasons(readFileSync(join(this.instance, "trace"), "utf8")),
        note: "every IPv4 drop on this host during the variant's run",
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

/** Which drop reasons support which cause. */
export const REASONS_FOR_CAUSE: Record<string, string[]> = {
  "accept-queue-overflow": ["TCP_LISTEN_OVERFLOW"],
  "abort-on-overflow": ["TCP_LISTEN_OVERFLOW"],
  "syn-blackhole": ["NETFILTER_DROP"],
  "local-firewall": ["NETFILTER_DROP"],
  "retransmit-timeout": ["NETFILTER_DROP"],
  "snat-conntrack-collision": ["NETFILTER_DROP"],
  "timewait-paws": ["TCP_RFC7323_TW_PAWS"],
  "tw-recycle-paws": ["TCP_RFC7323_PAWS"],
  "no-listener": ["NO_SOCKET"],
};
