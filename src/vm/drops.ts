/**
 * Drop reasons (skb:kfree_skb) of a VM's kernel: the host's tracer (src/evidence/drop-reasons.ts)
 * reads the host's tracefs, which sees the host's kernel; this one keeps a trace instance in the
 * guest's tracefs, driven through the guest agent. The guest dies with the run, so nothing of it
 * can outlive the run.
 */
import { dropFilter, type DropReasons, parseDropReasons } from "../evidence/drop-reasons.js";
import { type HostExecutor, runOn } from "../runtime/netns/host.js";

const TRACEFS = "/sys/kernel/tracing";
const KFREE_SKB = `${TRACEFS}/events/skb/kfree_skb`;

/**
 * Why this guest's kernel gives no drop reasons, or undefined when it does: skb:kfree_skb has
 * carried a `reason` field only since 5.17 (5.10's has a location and a protocol, no reason).
 */
export async function guestNoDropReasons(
  exec: HostExecutor,
  kernel: string,
): Promise<string | undefined> {
  const r = await runOn(exec, [
    "sh",
    "-c",
    `mountpoint -q ${TRACEFS} || mount -t tracefs nodev ${TRACEFS} || exit 1
     cat ${KFREE_SKB}/format`,
  ]);
  if (r.code !== 0) return `kernel ${kernel} has no skb:kfree_skb tracepoint (or no tracefs)`;
  return /field:[^;]*\breason;/.test(r.stdout)
    ? undefined
    : `kernel ${kernel}'s skb:kfree_skb tracepoint has no reason field (drop reasons came in 5.17)`;
}

export interface GuestDropTracer {
  stop(): Promise<DropReasons>;
}

/** Starts tracing; the caller has checked `guestNoDropReasons` (the kernel's inventory). */
export async function startGuestDropTracer(
  exec: HostExecutor,
  runId: string,
  kernel: string,
  ipv6 = false,
): Promise<GuestDropTracer | string> {
  const instance = `${TRACEFS}/instances/tcprepro-${runId}`;
  const event = `${instance}/events/skb/kfree_skb`;
  const start = await runOn(exec, [
    "sh",
    "-c",
    `mountpoint -q ${TRACEFS} || mount -t tracefs nodev ${TRACEFS} || exit 1
     mkdir "$1" && [ -d "$2" ] || { rmdir "$1" 2>/dev/null; exit 2; }
     echo "$3" > "$2/filter" && echo 1 > "$2/enable"`,
    "sh",
    instance,
    event,
    dropFilter(ipv6),
  ]);
  if (start.code !== 0)
    return `drop reasons not recorded on kernel ${kernel}: ${start.code === 2 ? "no skb:kfree_skb tracepoint" : start.stderr.trim() || "tracefs unavailable"}`;
  return {
    async stop() {
      const r = await runOn(exec, [
        "sh",
        "-c",
        'echo 0 > "$2/enable"; cat "$1/trace"; rmdir "$1"',
        "sh",
        instance,
        event,
      ]);
      return {
        counts: parseDropReasons(r.stdout),
        note: `every ${ipv6 ? "IPv4 and IPv6" : "IPv4"} drop in kernel ${kernel} (the VM) during the variant's run`,
      };
    },
  };
}
