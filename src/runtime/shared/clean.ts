/** What a clean removed, in words that fit every runtime, and the sum of several. */
import type { CleanResult } from "../runtime.js";

export const NOTHING_CLEANED: CleanResult = { nodes: 0, networks: 0, other: 0 };

export function sumClean(results: Iterable<CleanResult>): CleanResult {
  let sum = NOTHING_CLEANED;
  for (const r of results)
    sum = {
      nodes: sum.nodes + r.nodes,
      networks: sum.networks + r.networks,
      other: sum.other + r.other,
    };
  return sum;
}
