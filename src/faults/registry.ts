/**
 * Every fault kind, one line each. The scenario's `faults:` entries, their JSON Schema, their
 * timeline text and their effect all come from this table: a new kind is a new module here.
 */
import { z } from "zod";
import { Duration, Name, type AddProblem } from "../scenario/values.js";
import { clear } from "./clear.js";
import type { AppliedFault, FaultContext, FaultKind, FaultTargetNode } from "./fault.js";
import { iptables } from "./iptables.js";
import { pause } from "./pause.js";
import { signal } from "./signal.js";
import { unpause } from "./unpause.js";

export const FAULT_KINDS = {
  signal,
  pause,
  unpause,
  iptables,
  clear,
} as const;

export type FaultKindName = keyof typeof FAULT_KINDS;
const NAMES = Object.keys(FAULT_KINDS) as FaultKindName[];

type KindShape = {
  [K in FaultKindName]: z.ZodOptional<(typeof FAULT_KINDS)[K]["schema"]>;
};
const kindShape = Object.fromEntries(
  NAMES.map((name) => [name, FAULT_KINDS[name].schema.optional()]),
) as KindShape;

export const FaultSchema = z
  .strictObject({
    at: Duration,
    target: Name.meta({ description: "The node the fault is applied to" }),
    ...kindShape,
  })
  .superRefine((f, ctx) => {
    if (NAMES.filter((name) => f[name] !== undefined).length !== 1)
      ctx.addIssue({
        code: "custom",
        message: `a fault has exactly one of ${NAMES.join(", ")}`,
      });
  });

export type Fault = z.output<typeof FaultSchema>;

/** A fault's kind (the one key it was written with), that kind's module and its value. */
export function kindOf(f: Fault): { name: FaultKindName; kind: FaultKind; params: unknown } {
  const name = NAMES.find((n) => f[n] !== undefined)!;
  return { name, kind: FAULT_KINDS[name] as FaultKind, params: f[name] };
}

export function describeFault(f: Fault): string {
  const { kind, params } = kindOf(f);
  return kind.describe(params);
}

/** Applies `f` and records it in `log` (what later faults, such as `clear`, look back on). */
export async function applyFault(
  ctx: Omit<FaultContext, "applied">,
  f: Fault,
  log: AppliedFault[],
): Promise<void> {
  const { name, kind, params } = kindOf(f);
  await kind.apply({ ...ctx, applied: [...log] }, params);
  log.push({ kind: name, target: f.target, params });
}

/** After the timeline: each applied fault's kind undoes what would stall the collection. */
export async function finishFaults(
  ctxOf: (target: string) => Omit<FaultContext, "applied">,
  log: AppliedFault[],
): Promise<void> {
  for (const f of log) {
    const kind = FAULT_KINDS[f.kind as FaultKindName] as FaultKind;
    await kind.finish?.({ ...ctxOf(f.target), applied: log }, f.params);
  }
}

/** Load-time checks of `faults:`: known targets that can take the fault, within the timeout. */
export function faultProblems(
  s: { nodes: Record<string, FaultTargetNode>; faults: Fault[]; timeout: number },
  add: AddProblem,
): void {
  s.faults.forEach((f, i) => {
    const node = s.nodes[f.target];
    if (!node) return add(["faults", i, "target"], `unknown node "${f.target}"`);
    const { name, kind } = kindOf(f);
    const problem = kind.checkTarget?.(node, f.target);
    if (problem) add(["faults", i, name], problem);
    if (f.at >= s.timeout)
      add(["faults", i, "at"], `fault at ${f.at} ms is after the timeout (${s.timeout} ms)`);
  });
}
