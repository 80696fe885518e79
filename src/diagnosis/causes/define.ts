/**
 * A cause is one module: its name, the rule that names it, the counters that name it by
 * themselves, the kernel drop reasons that support it, and what to try (with its catalog
 * scenario). The ordered table of modules is ./index.ts.
 */
import type { CauseName } from "../causes.js";
import type { DiagnosisContext } from "../view.js";

/** The causes a rule can name on a run's evidence (not the verdicts `none` and `unexplained`). */
export type RunCause = Exclude<CauseName, "none" | "unexplained">;

export interface Mitigation {
  /** The change to try, for a person: concrete sysctls and app settings. */
  change: string;
  /** Catalog scenario (`scenarios/<name>.yaml`) demonstrating the cause and the fix; none yet: undefined. */
  scenario?: string;
  /** Sysctls of the diagnosed host that shape this cause, per node of the catalog scenario. */
  hostSysctls: Record<string, readonly string[]>;
}

export interface CauseModule<N extends RunCause = RunCause> {
  name: N;
  /**
   * Reads the evidence and adds findings (with the counters and failures they claim). Absent
   * when another cause's rule names this one too (one overflow, two answers) or it is named
   * from a host snapshot only. Rules run in the table's order: a later rule sees only what the
   * earlier ones left unclaimed.
   */
  rule?: (ctx: DiagnosisContext) => void;
  /**
   * Counters that name this cause by themselves: one that moved and no finding claims is
   * reported as `unexplained` with its number.
   */
  counters: readonly string[];
  /** The kernel's drop reasons (skb:kfree_skb) that support this cause when counted. */
  dropReasons: readonly string[];
  /** What to try, and the catalog scenario that shows the cause and its fix. */
  mitigation: Mitigation;
}

/** Types a cause module (its name checked against the vocabulary); returns it unchanged. */
export function defineCause<N extends RunCause>(c: CauseModule<N>): CauseModule<N> {
  return c;
}
