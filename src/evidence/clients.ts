/** Client attempts → counts per outcome and latency percentiles. Pure. */
import type { Attempt, ClientSummary, Percentiles } from "./types.js";

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

export function summarizeAttempts(attempts: Attempt[]): ClientSummary {
  const outcomes: Record<string, number> = {};
  for (const a of attempts) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  return {
    attempts: attempts.length,
    outcomes,
    connectMs: percentiles(
      attempts.flatMap((a) => (a.connectMs === undefined ? [] : [a.connectMs])),
    ),
    replyMs: percentiles(attempts.flatMap((a) => (a.replyMs === undefined ? [] : [a.replyMs]))),
    ...(attempts.some((a) => a.requestMs !== undefined)
      ? {
          requestMs: percentiles(
            attempts.flatMap((a) => (a.requestMs === undefined ? [] : [a.requestMs])),
          ),
        }
      : {}),
  };
}

/**
 * Aggregates expectations can name besides the raw outcomes: `failed` is every attempt that did
 * not end `connected`; `timedOut` is the kernel's ETIMEDOUT plus the client's own timeout.
 */
export function clientAggregate(summary: ClientSummary, key: string): number {
  const o = summary.outcomes;
  switch (key) {
    case "attempts":
      return summary.attempts;
    case "failed":
      return summary.attempts - (o.connected ?? 0);
    case "timedOut":
      return (o.ETIMEDOUT ?? 0) + (o.timeout ?? 0);
    default:
      return o[key] ?? 0;
  }
}
