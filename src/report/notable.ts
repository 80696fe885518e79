/**
 * The counters worth a line in a summary: the ones a TCP failure moves (drops, overflows,
 * retransmits, resets, PAWS, conntrack). Byte and segment counts move in every run and say little.
 */
import { NOTABLE_COUNTER } from "../evidence/notable.js";
import type { VariantResult } from "../verdict/result.js";

export { NOTABLE_COUNTER };

export interface MovedCounter {
  node: string;
  counter: string;
  delta: number;
}

/** The notable counters that moved in this variant, in report order (node by node). */
export function notableCounters(v: Pick<VariantResult, "nodes">): MovedCounter[] {
  const out: MovedCounter[] = [];
  for (const [node, rep] of Object.entries(v.nodes)) {
    for (const [counter, delta] of Object.entries(rep.counters)) {
      if (NOTABLE_COUNTER.test(counter)) out.push({ node, counter, delta });
    }
  }
  return out;
}

/** `+182`, `-3`: a delta with its sign. */
export function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}
