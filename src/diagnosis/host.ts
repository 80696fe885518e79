/**
 * `tcprepro diagnose` on a production host: two counter dumps or snapshots (in any mix), or one
 * snapshot alone (its counters then count since boot). From snapshots it also reads the state
 * the counters cannot show — full listeners, somaxconn capping a backlog, conntrack near its
 * max, TIME_WAIT near the port range (rules-snapshot.ts) — and every cause comes with what to try.
 */
import { looksLikeNstat } from "../evidence/proc.js";
import type { DropReasons } from "../evidence/drop-reasons.js";
import type { Counters, ListenQueueEvidence, SocketEvidence } from "../evidence/types.js";
import { looksLikeSnapshot, readSnapshot, type Snapshot } from "../snapshot/snapshot.js";
import type { Cause, Diagnosis } from "./causes.js";
import { diagnoseCounterPair, readDump } from "./dump.js";
import { DumpError } from "./errors.js";
import { whatToTry, type WhatToTry } from "./mitigations.js";
import { snapshotFindings } from "./rules-snapshot.js";

export interface HostDiagnosis extends Diagnosis {
  /** What the snapshots show that is worth knowing but names no cause alone. */
  observations: string[];
  whatToTry: WhatToTry[];
}

interface Input {
  counters: Counters;
  snapshot?: Snapshot;
  omitsZeros: boolean;
}

function readInput(text: string, which: "before" | "after"): Input {
  if (looksLikeSnapshot(text)) {
    const snapshot = readSnapshot(text, `--${which}`);
    return { counters: snapshot.counters, snapshot, omitsZeros: false };
  }
  const omitsZeros = looksLikeNstat(text) && !/^\S+\s+0(\s|$)/m.test(text);
  return { counters: readDump(text, which), omitsZeros };
}

/** What the diagnosis reads of a snapshot's listeners: depth and limit per port. */
function listenEvidence(after: Snapshot, before?: Snapshot): ListenQueueEvidence | undefined {
  const known = after.listen.filter((l) => l.sendQ !== null);
  if (known.length === 0) return undefined;
  const maxRecvQ: Record<number, number> = {};
  const sendQ: Record<number, number> = {};
  for (const l of [...(before?.listen ?? []), ...after.listen]) {
    maxRecvQ[l.port] = Math.max(maxRecvQ[l.port] ?? 0, l.recvQ);
    if (l.sendQ !== null) sendQ[l.port] = l.sendQ;
  }
  return {
    final: known.map((l) => ({ port: l.port, recvQ: l.recvQ, sendQ: l.sendQ! })),
    maxRecvQ,
    sendQ,
    // Request sockets (half-open) are listed in /proc/net/tcp as SYN_RECV.
    maxSynRecv: after.states["SYN_RECV"] ?? 0,
  };
}

/** The snapshots' sockets per state as samples: the most of each state, and the last. */
function socketEvidence(after: Snapshot, before?: Snapshot): SocketEvidence {
  const max: Record<string, number> = { ...after.states };
  for (const [k, v] of Object.entries(before?.states ?? {})) max[k] = Math.max(max[k] ?? 0, v);
  return { max, final: { ...after.states } } as SocketEvidence;
}

/** What `diagnose --live` saw between its two snapshots. */
export interface LiveSamples {
  /** Snapshots taken during the window (the state's peaks: full queues, CLOSE_WAIT, conntrack). */
  samples: Snapshot[];
  dropReasons?: DropReasons;
}

/** The listeners' and states' peaks over the samples, the conntrack count at its highest. */
function withPeaks(after: Snapshot, samples: Snapshot[]): Snapshot {
  const count = "net.netfilter.nf_conntrack_count";
  const peak = Math.max(
    ...[after, ...samples].map((s) =>
      typeof s.sysctls[count] === "number" ? s.sysctls[count] : -1,
    ),
  );
  const listen = after.listen.map((l) => ({
    ...l,
    recvQ: Math.max(
      l.recvQ,
      ...samples.flatMap((s) => s.listen.filter((x) => x.port === l.port).map((x) => x.recvQ)),
    ),
  }));
  const states: Record<string, number> = { ...after.states };
  for (const s of samples)
    for (const [k, v] of Object.entries(s.states)) states[k] = Math.max(states[k] ?? 0, v);
  return {
    ...after,
    listen,
    states,
    sysctls: peak >= 0 ? { ...after.sysctls, [count]: peak } : after.sysctls,
  };
}

/** The kernel's drop reasons over a live window, most frequent first. */
function dropObservation(drops: DropReasons | undefined): string[] {
  const counts = Object.entries(drops?.counts ?? {}).sort((x, y) => y[1] - x[1]);
  if (!drops || counts.length === 0) return [];
  return [
    `kernel drop reasons (${drops.note}): ${counts
      .slice(0, 8)
      .map(([r, n]) => `${r} ×${n}`)
      .join(", ")}`,
  ];
}

/** Diagnose `before` → `after` texts; `before` undefined: a lone snapshot, counters since boot. */
export function diagnoseHost(
  afterText: string,
  beforeText?: string,
  live?: LiveSamples,
): HostDiagnosis {
  const after = readInput(afterText, "after");
  const before = beforeText === undefined ? undefined : readInput(beforeText, "before");
  if (!before && !after.snapshot)
    throw new DumpError("before", "--before is needed unless the one file given is a snapshot");
  const [b, a] = [before?.snapshot, after.snapshot];
  if (b && a && (b.kernel !== a.kernel || b.hostname !== a.hostname))
    throw new DumpError(
      "both",
      `the snapshots come from different hosts or kernels (${b.hostname} ${b.kernel} → ` +
        `${a.hostname} ${a.kernel}): counters of two boots cannot be subtracted`,
    );
  if (b && a && Date.parse(b.takenAt) > Date.parse(a.takenAt))
    throw new DumpError("both", `--before was taken after --after (${b.takenAt} > ${a.takenAt})`);
  const samples = live?.samples ?? [];
  // Peaks the samples caught between the two snapshots count as the `after` state's.
  const peak = a && samples.length > 0 ? withPeaks(a, samples) : a;
  const d = diagnoseCounterPair(before?.counters ?? {}, after.counters, {
    omitsZeros: after.omitsZeros || (before?.omitsZeros ?? false),
    kernel: a?.kernel,
    listen: peak ? listenEvidence(peak, b) : undefined,
    sockets: peak ? socketEvidence(peak, b) : undefined,
    ...(live?.dropReasons ? { dropReasons: live.dropReasons } : {}),
    node: a?.hostname,
  });
  const unchecked = [...d.unchecked];
  if (!before)
    unchecked.unshift(
      "one snapshot: its counters count since boot (or since the network namespace was made), " +
        "not over a window: give --before and --after, or --live DURATION",
    );
  for (const s of [b, a]) if (s) unchecked.push(...s.source.notes.map((n) => `snapshot: ${n}`));
  const state = peak ? snapshotFindings(peak) : { causes: [], observations: [] };
  const causes = mergeCauses(d.causes, state.causes);
  return {
    causes,
    unchecked: [...new Set(unchecked)],
    observations: [...state.observations, ...dropObservation(live?.dropReasons)],
    whatToTry: whatToTry(causes),
  };
}

/**
 * The snapshot's findings join the counters': one of a cause already named at the same place
 * adds its sentence there; `none` stands only when nothing at all was found.
 */
function mergeCauses(fromCounters: Cause[], fromState: Cause[]): Cause[] {
  const out = fromCounters.filter((c) => fromState.length === 0 || c.cause !== "none");
  for (const s of fromState) {
    const same = out.find((c) => c.cause === s.cause);
    if (same) {
      same.because += `; ${s.because}`;
      same.numbers = { ...same.numbers, ...s.numbers };
      if (s.confidence === "strong") same.confidence = "strong";
    } else out.push(s);
  }
  return out;
}
