/**
 * A fault kind is one module: the schema of its key's value, how it reads in the timeline, and
 * its effect on the target node. The registry (registry.ts) lists them; the scenario schema and
 * the published JSON Schema are built from that list.
 */
import type { z } from "zod";
import type { NodeProcess, StartedNode } from "../runtime/runtime.js";

/**
 * What a fault kind may check of its target node at load (a scenario node is one). Structural,
 * so the scenario schema, which is built from the fault registry, is not imported back here.
 */
export interface FaultTargetNode {
  /** The built-in app, when the node runs it. */
  app?: unknown;
  /** A user's own image, when the node runs one. */
  image?: string;
}

/** A fault as it was applied: its kind (the key it was written with), target and value. */
export interface AppliedFault {
  kind: string;
  target: string;
  params: unknown;
}

/** What a fault's effect works on, when the variant's clock reaches it. */
export interface FaultContext {
  /** The target node's name in the scenario, and the node. */
  target: string;
  node: StartedNode;
  /** The target's built-in app, when it runs one. */
  app: NodeProcess | undefined;
  /** The faults this variant applied before this one, oldest first. */
  applied: readonly AppliedFault[];
}

export interface FaultKind<S extends z.ZodType = z.ZodType> {
  /** The value of the fault's key (`signal: SIGSTOP`, `pause: true`), with its description. */
  schema: S;
  /** How the fault reads in the timeline, the events and the reports: `SIGSTOP`, `iptables -I …`. */
  describe(params: z.output<S>): string;
  apply(ctx: FaultContext, params: z.output<S>): Promise<void>;
  /** After the timeline, for each applied fault of this kind: undo what would stall the collection. */
  finish?(ctx: FaultContext, params: z.output<S>): Promise<void>;
  /** Checked at load: why the target node cannot take this fault, or undefined. */
  checkTarget?(node: FaultTargetNode, target: string): string | undefined;
}

/** Types a fault kind's module (its params from its schema); returns it unchanged. */
export function defineFault<S extends z.ZodType>(kind: FaultKind<S>): FaultKind<S> {
  return kind;
}
