/**
 * One clock for a VM run: the guest's tools (the traffic agent, tcpdump) stamp their times with
 * the guest's CLOCK_REALTIME, which the host places against its own t=0 (see syncClock).
 */
import type { GuestChannel } from "./channel.js";

/** The host's wall clock in µs, finer than Date.now(). */
const hostUs = () => (performance.timeOrigin + performance.now()) * 1000;

/** How far the guest's wall clock is ahead of the host's, µs: the best of a few round trips. */
export async function clockOffsetUs(read: () => Promise<number>, tries = 5): Promise<number> {
  let best: { rtt: number; offset: number } | undefined;
  for (let i = 0; i < tries; i++) {
    const h0 = hostUs();
    const guest = await read();
    const h1 = hostUs();
    const sample = { rtt: h1 - h0, offset: guest - (h0 + h1) / 2 };
    if (!best || sample.rtt < best.rtt) best = sample;
  }
  return best!.offset;
}

/**
 * One clock for a run: the guest's tools (the traffic agent, tcpdump) stamp their times with
 * the guest's CLOCK_REALTIME, which boots from the emulated RTC in whole seconds; the host
 * places them against its own t=0. Set the guest's clock to the host's, once per boot.
 */
export async function syncClock(ch: GuestChannel): Promise<{ beforeMs: number; afterMs: number }> {
  const before = await clockOffsetUs(() => ch.clock(0));
  await ch.clock(-before);
  const after = await clockOffsetUs(() => ch.clock(0));
  return { beforeMs: before / 1000, afterMs: Math.abs(after) / 1000 };
}
