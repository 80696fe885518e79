/** N runs of one variant → one result that says how many verdicts agreed. Pure. */
import type { VariantResult, VerdictKind } from "./result.js";

/**
 * The verdict stands only when every run gave it: one disagreeing run makes the variant FAIL
 * as flaky (a flaky verdict is a bug with a race behind it, not bad luck). The evidence shown
 * is the first run's, or the first run that disagreed with the majority.
 */
export function combineRepeats(runs: VariantResult[]): VariantResult {
  if (runs.length === 0) throw new Error("combineRepeats needs at least one run");
  const verdicts: Partial<Record<VerdictKind, number>> = {};
  for (const r of runs) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
  const [majority, agreed] = Object.entries(verdicts).sort((a, b) => b[1] - a[1])[0]! as [
    VerdictKind,
    number,
  ];
  const repeat = { runs: runs.length, agreed, verdicts };
  const durationMs = runs.reduce((sum, r) => sum + r.durationMs, 0);
  if (agreed === runs.length) return { ...runs[0]!, durationMs, repeat };
  const odd = runs.find((r) => r.verdict !== majority)!;
  const tally = Object.entries(verdicts)
    .map(([v, n]) => `${v} ×${n}`)
    .join(", ");
  return {
    ...odd,
    verdict: "fail",
    reason: `flaky: ${agreed} of ${runs.length} runs agreed (${tally}); a disagreeing run: ${odd.verdict}: ${odd.reason}`,
    durationMs,
    repeat,
  };
}
