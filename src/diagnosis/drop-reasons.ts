/**
 * The kernel's own drop reasons (skb:kfree_skb, when the runtime could trace them) behind a
 * cause: which reasons support which cause, and the cause with those it saw added.
 */
import type { Cause } from "./causes.js";
import { CAUSE_MODULES } from "./causes/index.js";

/** Which drop reasons support which cause: each cause module says. */
const REASONS_FOR_CAUSE: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  CAUSE_MODULES.map((m) => [m.name, m.dropReasons]),
);

/** The cause, its `because` and `numbers` extended with the supporting reasons that were counted. */
export function withDropReasons(c: Cause, drops: Record<string, number> | null): Cause {
  const reasons = (REASONS_FOR_CAUSE[c.cause] ?? []).filter((r) => (drops?.[r] ?? 0) > 0);
  if (reasons.length === 0) return c;
  return {
    ...c,
    because: `${c.because}; kernel drop reasons: ${reasons.map((r) => `${r} ×${drops![r]}`).join(", ")}`,
    numbers: { ...c.numbers, ...Object.fromEntries(reasons.map((r) => [`drop.${r}`, drops![r]!])) },
  };
}
