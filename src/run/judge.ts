/** The `judge` step: the evidence → causes (diagnosis) → expectations → a verdict. */
import { diagnose } from "../diagnosis/rules.js";
import type { Evidence } from "../evidence/types.js";
import type { Variant } from "../scenario/load.js";
import { evaluateExpect } from "../verdict/expect.js";
import { summarizeAttempts } from "../evidence/clients.js";
import type { Attempt } from "../model/evidence.js";
import { reportedFamily } from "../scenario/family.js";
import type { Scenario } from "../scenario/schema.js";
import {
  NOTHING_CHECKED,
  type ExpectationResult,
  type NodeReport,
  type VariantResult,
} from "../verdict/result.js";

export interface Timing {
  upMs: number;
  downMs: number;
  timelineMs: number;
  durationMs: number;
}

export function judge(variant: Variant, evidence: Evidence, timing: Timing): VariantResult {
  const diagnosis = diagnose(evidence);
  const drops = evidence.dropReasons?.counts ?? null;
  // The diagnosis already weighed the kernel's drop reasons; the report keeps no confidence.
  const causes = diagnosis.causes.map(({ cause, node, because, numbers }) => ({
    cause,
    node,
    because,
    numbers,
  }));
  const expectations = evaluateExpect(
    variant.scenario.expect,
    evidence.nodes,
    evidence.clients,
    causes.map((c) => c.cause),
    variant.expectSource,
    drops,
  );
  const failed = expectations.filter((e) => !e.ok);
  return {
    variant: variant.name,
    verdict: failed.length === 0 ? "pass" : "fail",
    ...(expectations.length === 0 ? { nothingChecked: true as const } : {}),
    reason:
      expectations.length === 0
        ? NOTHING_CHECKED
        : failed.length === 0
          ? `${expectations.length} expectation(s) met`
          : failed.map(failure).join("; "),
    ...timing,
    nodes: nodeReports(evidence),
    clients: evidence.clients,
    ...familyOf(variant.scenario, evidence.attempts),
    attempts: evidence.attempts,
    expectations,
    causes,
    unchecked: diagnosis.unchecked,
    dropReasons: evidence.dropReasons,
  };
}

function failure(e: ExpectationResult): string {
  return `${e.path}: expected ${e.expected}, got ${e.actual}${e.source ? ` (${e.source})` : ""}`;
}

/** Per node what the report keeps: the counters that moved, the listen queue, the packets. */
function nodeReports(evidence: Evidence): Record<string, NodeReport> {
  const nodes: Record<string, NodeReport> = {};
  for (const [name, ev] of Object.entries(evidence.nodes)) {
    nodes[name] = {
      counters: Object.fromEntries(Object.entries(ev.counters).filter(([, v]) => v !== 0)),
      ...(ev.listen ? { listen: ev.listen } : {}),
      ...(ev.packets ? { packets: ev.packets } : {}),
      ...(ev.sockets ? { sockets: ev.sockets } : {}),
    };
  }
  return nodes;
}

/** The family the variant's traffic used, and per family outcomes when it used both. */
export function familyOf(
  s: Scenario,
  attempts: Attempt[] = [],
): Pick<VariantResult, "family" | "clientsByFamily"> {
  const family = reportedFamily(s);
  if (family === "ipv4") return {};
  if (family !== "dual") return { family };
  return {
    family,
    clientsByFamily: {
      ipv4: summarizeAttempts(attempts.filter((a) => a.family !== "ipv6")),
      ipv6: summarizeAttempts(attempts.filter((a) => a.family === "ipv6")),
    },
  };
}
