/**
 * Drop reasons (skb:kfree_skb) of a VM's kernel: the host's tracer (src/evidence/drop-reasons.ts)
 * reads the host's tracefs, which sees the host's kernel; this one keeps trace instances in the
 * guest's tracefs, driven through the guest agent. The guest dies with the run, so nothing of it
 * can outlive the run.
 */
import { dropFilter, type DropReasons, parseDropReasons } from "../evidence/drop-reasons.js";
import { type HostExecutor, runOn } from "../runtime/netns/host.js";
import type { GuestChannel } from "./channel.js";

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

/**
 * The guest's trace instances, reused: making an instance builds its whole events tree in the
 * kernel, and removing it tears that down — ~300 ms of an emulated vCPU per variant, measured on
 * 6.1 under TCG, a seventh of what the catalog cost the guest. A variant takes a free instance
 * (or makes one), empties its buffer and sets its filter; when it stops, it reads the buffer and
 * gives the instance back. All through the agent's file requests: no process is started. The
 * instances go with the VM.
 */
export class GuestDropTracers {
  private readonly free: string[] = [];
  private made = 0;

  constructor(
    private readonly channel: GuestChannel,
    private readonly kernel: string,
  ) {}

  /** Starts tracing; the caller has checked `guestNoDropReasons` (the kernel's inventory). */
  async start(ipv6 = false): Promise<GuestDropTracer | string> {
    const instance = this.free.pop() ?? (await this.make());
    if (typeof instance !== "string") return instance.error;
    const event = `${instance}/events/skb/kfree_skb`;
    try {
      await this.channel.writeFile(`${event}/enable`, "0");
      await this.channel.writeFile(`${instance}/trace`, "");
      await this.channel.writeFile(`${event}/filter`, dropFilter(ipv6));
      await this.channel.writeFile(`${event}/enable`, "1");
    } catch (err) {
      return `drop reasons not recorded on kernel ${this.kernel}: ${(err as Error).message}`;
    }
    return {
      stop: async () => {
        await this.channel.writeFile(`${event}/enable`, "0").catch(() => undefined);
        const trace = await this.channel.readFile(`${instance}/trace`);
        this.free.push(instance);
        return {
          counts: parseDropReasons(trace?.toString() ?? ""),
          note: `every ${ipv6 ? "IPv4 and IPv6" : "IPv4"} drop in kernel ${this.kernel} (the VM) during the variant's run`,
        };
      },
    };
  }

  private async make(): Promise<string | { error: string }> {
    const instance = `${TRACEFS}/instances/tcprepro-${++this.made}`;
    const r = await runOn(this.channel, [
      "sh",
      "-c",
      `mountpoint -q ${TRACEFS} || mount -t tracefs nodev ${TRACEFS} || exit 1
     mkdir "$1" && [ -d "$1/events/skb/kfree_skb" ] || { rmdir "$1" 2>/dev/null; exit 2; }`,
      "sh",
      instance,
    ]);
    if (r.code === 0) return instance;
    const why =
      r.code === 2 ? "no skb:kfree_skb tracepoint" : r.stderr.trim() || "tracefs unavailable";
    return { error: `drop reasons not recorded on kernel ${this.kernel}: ${why}` };
  }
}
