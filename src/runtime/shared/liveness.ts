/** Is the run a runtime finds still owned by a live tcprepro process? Docker and netns ask alike. */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface RunOwner {
  /** The host the owning process ran on (a shared engine or /run may hold other hosts' runs). */
  host: string | undefined;
  pid: number;
}

/** A run is alive while the tcprepro process that made it still runs on this host. */
export function ownerIsAlive(owner: RunOwner): boolean {
  if (owner.host !== hostname()) return true; // not ours to judge
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    const cmdline = readFileSync(`/proc/${owner.pid}/cmdline`, "utf8");
    return /tcprepro|tsx|node|vitest/.test(cmdline);
  } catch {
    return false;
  }
}
