/** Test data builders shared by unit tests of reports, verdicts and snapshots. */
import type { Snapshot } from "../../src/snapshot/snapshot.js";
import type { VariantResult } from "../../src/verdict/result.js";

/** A passing variant with no evidence; override what a test is about. */
export function variantResult(extra: Partial<VariantResult> = {}): VariantResult {
  return {
    variant: "baseline",
    verdict: "pass",
    reason: "ok",
    durationMs: 1000,
    nodes: {},
    clients: { attempts: 0, outcomes: {}, connectMs: null, replyMs: null },
    attempts: [],
    expectations: [],
    causes: [],
    unchecked: [],
    ...extra,
  };
}

/** A snapshot of host web1 with nothing in it; override what a test is about. */
export function snapshotOf(over: Partial<Snapshot> = {}): Snapshot {
  return {
    format: "tcprepro-snapshot",
    version: 1,
    takenAt: "2026-01-02T03:04:05.000Z",
    hostname: "web1",
    kernel: "6.1.0-test",
    source: { proc: "/proc", listenLimits: "ss", notes: [] },
    sysctls: {},
    counters: {},
    listen: [],
    states: {},
    ...over,
  };
}
