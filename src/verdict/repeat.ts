/** N runs of one variant → one result that says how many verdicts agreed. Pure. */
import type { RepeatRun, VariantResult, VerdictKind } from "./result.js";

const summary = (r: VariantResult, i: number): RepeatRun => ({
  run: i + 1,
  verdict: r.verdict,
  reason: r.reason,
  failed: r.expectations.filter((e) => !e.ok),
  causes: r.causes.map(({ cause, node, because }) => ({ cause, node, because })),
});

/**
 * The verdict stands only when every run gave it: one disagreeing run makes the variant FAIL
 * as flaky (a flaky verdict is a bug with a race behind it, not bad luck). A flaky result
 * carries the evidence of the first run that did not pass, and `repeat.each` lists every run
 * with its failed expectations and causes, so the race explains itself.
 */
export function combineRepeats(runs: VariantResult[]): VariantResult {
  if (runs.length === 0) throw new Error("combineRepeats needs at least one run");
  const verdicts: Partial<Record<VerdictKind, number>> = {};
  for (const r of runs) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
  const agreed = Math.max(...Object.values(verdicts));
  const each = runs.map(summary);
  const repeat = { runs: runs.length, agreed, verdicts, each };
  const durationMs = runs.reduce((sum, r) => sum + r.durationMs, 0);
  if (agreed === runs.length) return { ...runs[0]!, durationMs, repeat };
  const shown = runs.find((r) => r.verdict !== "pass" && r.verdict !== "skip") ?? runs[0]!;
  const tally = Object.entries(verdicts)
    .map(([v, n]) => `${v} ×${n}`)
    .join(", ");
  const differing = each
    .filter((r) => r.verdict !== "pass")
    .map((r) => `run ${r.run} ${r.verdict}: ${r.reason}`)
    .join("; ");
  return {
    ...shown,
    verdict: "fail",
    reason: `flaky: ${agreed} of ${runs.length} runs agreed (${tally}); ${differing}`,
    durationMs,
    repeat,
  };
}

/** The runs of a flaky variant that did not pass: what the console and JUnit list. */
export function differingRuns(v: VariantResult): RepeatRun[] {
  if (!v.repeat || v.repeat.agreed === v.repeat.runs) return [];
  return v.repeat.each.filter((r) => r.verdict !== "pass");
}
