/**
 * What to try, per cause: one entry each — the change (a sysctl or the app), the catalog
 * scenario that demonstrates the cause and its fix, the sysctls of the host that shape it (what
 * `scenario new --from` copies), and the fix as a variant's `set` patch.
 */
import type { CauseName } from "./causes.js";
import { CAUSES_IN_REPORT_ORDER } from "./causes/index.js";
import type { Mitigation, RunCause } from "./causes/define.js";

export type { Mitigation };

/** What to try per cause (each cause module says), by cause name. */
export const MITIGATIONS: Readonly<Record<RunCause, Mitigation>> = Object.fromEntries(
  CAUSES_IN_REPORT_ORDER.map((c) => [c.name, c.mitigation]),
) as Record<RunCause, Mitigation>;

export interface WhatToTry {
  cause: CauseName;
  change: string;
  /** `scenarios/<name>.yaml`, when the catalog has one. */
  scenario?: string;
}

/** One entry per distinct cause named, in the diagnosis's order. */
export function whatToTry(causes: readonly { cause: CauseName }[]): WhatToTry[] {
  const seen = new Set<CauseName>();
  const out: WhatToTry[] = [];
  for (const { cause } of causes) {
    if (cause === "none" || cause === "unexplained" || seen.has(cause)) continue;
    seen.add(cause);
    const m = MITIGATIONS[cause];
    out.push({
      cause,
      change: m.change,
      ...(m.scenario ? { scenario: `scenarios/${m.scenario}.yaml` } : {}),
    });
  }
  return out;
}
