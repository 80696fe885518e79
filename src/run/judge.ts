/** The `judge` step: the evidence → causes (diagnosis) → expectations → a verdict. */
import { diagnose } from "../diagnosis/rules.js";
import { REASONS_FOR_CAUSE } from "../evidence/drop-reasons.js";
import type { Evidence } from "../evidence/types.js";
import type { Variant } from "../scenario/load.js";
import { evaluateExpect } from "../verdict/expect.js";
import type { NodeReport, VariantResult } from "../verdict/result.js";

export interface Timing {
  upMs: number;
  downMs: number;
  timelineMs: number;
  durationMs: number;
}

export function judge(variant: Variant, evidence: Evidence, timing: Timing): VariantResult {
  const diagnosis = diagnose(evidence);
  const drops = evidence.dropReasons?.counts ?? null;
  const causes = diagnosis.causes.map((c) => {
    // The kernel's drop reasons that support this cause, when they were recorded.
    const reasons = (REASONS_FOR_CAUSE[c.cause] ?? []).filter((r) => (drops?.[r] ?? 0) > 0);
    const because =
      reasons.length > 0
        ? `${c.because}; kernel drop reasons: ${reasons.map((r) => `${r} ×${drops![r]}`).join(", ")}`
        : c.because;
    return {
      cause: c.cause,
      node: c.node,
      because,
      numbers: {
        ...c.numbers,
        ...Object.fromEntries(reasons.map((r) => [`drop.${r}`, drops![r]!])),
      },
    };
  });
  const expectations = evaluateExpect(
    variant.scenario.expect,
    evidence.nodes,
    evidence.clients,
    causes.map((c) => c.cause),
    variant.expectSource,
    drops,
  );
  const failed = expectations.filter((e) => !e.ok);
  const nodes: Record<string, NodeReport> = {};
  for (const [name, ev] of Object.entries(evidence.nodes)) {
    nodes[name] = {
      counters: Object.fromEntries(Object.entries(ev.counters).filter(([, v]) => v !== 0)),
      ...(ev.listen ? { listen: ev.listen } : {}),
      ...(ev.packets ? { packets: ev.packets } : {}),
    };
  }
  return {
    variant: variant.name,
    verdict: failed.length === 0 ? "pass" : "fail",
    reason:
      failed.length === 0
        ? `${expectations.length} expectation(s) met`
        : failed
            .map(
              (e) =>
                `${e.path}: expected ${e.expected}, got ${e.actual}${e.source ? ` (${e.source})` : ""}`,
            )
            .join("; "),
    ...timing,
    nodes,
    clients: evidence.clients,
    attempts: evidence.attempts,
    expectations,
    causes,
    unchecked: diagnosis.unchecked,
    dropReasons: evidence.dropReasons,
  };
}
