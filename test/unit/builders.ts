/** Test data builders shared by unit tests of reports and verdicts. */
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
