/**
 * The vocabulary of a diagnosis: the causes the rules can name (docs/kernel-behaviour.md#failure-modes) and the
 * shape of what `diagnose` returns.
 */

// The vocabulary is public (a report names its causes with it): src/model/causes.ts.
export { CAUSE_NAMES, isCauseName, type CauseName } from "../model/causes.js";
import type { CauseName } from "../model/causes.js";

/**
 * strong: the key counter moved well past noise, or moved and something independent agrees
 * (the clients' errors, the listen queue). weak: it moved, but nothing else confirms it.
 */
export type Confidence = "strong" | "weak";

export interface Cause {
  cause: CauseName;
  /** Where the evidence was: a node, or a replica group (`client` for client.1, client.2, …). */
  node: string;
  confidence: Confidence;
  /** One sentence for a human, with the numbers: "server: TcpExtListenOverflows +45, …". */
  because: string;
  /** The numbers behind `because`: counter deltas by counter name, derived values by our name. */
  numbers: Record<string, number>;
}

export interface Diagnosis {
  /** Strong before weak, each in cause-table order; `none` or `unexplained` last. */
  causes: Cause[];
  /** What could not be checked, and why (a counter this kernel lacks, evidence not given). */
  unchecked: string[];
}
