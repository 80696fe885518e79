/** The `ready` step: apps listening, captures and the drop-reason tracer running. */
import { DropReasonTracer } from "../evidence/drop-reasons.js";
import { NodeCapture } from "../evidence/capture.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";
import type { NodeInstance } from "./plan.js";
import type { VariantContext } from "./run-variant.js";
import { setUpNodes, type ReadyNodes } from "./setup.js";

export interface Ready extends ReadyNodes {
  captures: Map<string, NodeCapture>;
  /** Tracing the kernel's drop reasons, or why not. */
  tracer: DropReasonTracer | string;
}

/** "Drop reasons unavailable" is said once per process, not per variant. */
let warnedNoDropReasons = false;

export async function getReady(
  ctx: VariantContext,
  s: Scenario,
  topo: StartedTopology,
  instances: NodeInstance[],
): Promise<Ready> {
  const ready = await setUpNodes(s, topo, instances);
  const captures = new Map<string, NodeCapture>();
  for (const inst of instances) {
    if (ctx.captureAll || inst.spec.capture)
      captures.set(inst.name, await NodeCapture.start(topo.nodes.get(inst.name)!, topo.runId));
  }
  const tracer = ctx.runtime.capabilities.dropReasons
    ? DropReasonTracer.start(topo.runId)
    : `the ${ctx.runtime.name} runtime cannot trace drop reasons`;
  if (typeof tracer === "string" && !warnedNoDropReasons) {
    warnedNoDropReasons = true;
    ctx.emit({ kind: "warning", message: `${tracer}; carrying on without them` });
  }
  return { ...ready, captures, tracer };
}
