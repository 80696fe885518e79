/**
 * What a variant that did not pass shows a reader, as plain lines: each failed expectation
 * (expected vs actual, with the file:line it came from) and the evidence behind each cause.
 * For a flaky variant (--repeat), the same for every run that did not pass. The console and
 * JUnit print these lines; only the framing differs.
 */
import type { ExpectationResult, VariantResult } from "../verdict/result.js";
import { differingRuns } from "../verdict/repeat.js";

export function expectationLine(e: ExpectationResult): string {
  return `✗ ${e.path}: expected ${e.expected}, actual ${e.actual}${e.source ? `  (${e.source})` : ""}`;
}

type Cause = { cause: string; node: string; because: string };
const causeLine = (c: Cause) => `· ${c.cause} at ${c.node}: ${c.because}`;

export function failureLines(v: VariantResult): string[] {
  const runs = differingRuns(v);
  if (runs.length > 0)
    return runs.flatMap((r) => [
      `run ${r.run} of ${v.repeat!.runs}: ${r.verdict.toUpperCase()}${r.failed.length === 0 ? `: ${r.reason}` : ""}`,
      ...r.failed.map((e) => `  ${expectationLine(e)}`),
      ...r.causes.map((c) => `  ${causeLine(c)}`),
    ]);
  return [...v.expectations.filter((e) => !e.ok).map(expectationLine), ...v.causes.map(causeLine)];
}
