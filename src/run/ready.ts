/** The `ready` step: apps listening, captures and the drop-reason tracer running. */
import { DropReasonTracer, type DropReasons } from "../evidence/drop-reasons.js";
import { NodeCapture } from "../evidence/capture.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";
import type { NodeInstance } from "./plan.js";
import type { VariantContext } from "./run-variant.js";
import { setUpNodes, type ReadyNodes } from "./setup.js";

export interface Ready extends ReadyNodes {
  captures: Map<string, NodeCapture>;
  /** Tracing the kernel's drop reasons, or why not. */
  tracer: { stop(): DropReasons | Promise<DropReasons> } | string;
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
  // A runtime whose nodes run on another kernel (a VM) traces there; else the host's tracefs.
  const tracer = ctx.runtime.traceDrops
    ? await ctx.runtime.traceDrops(topo.runId)
    : ctx.runtime.capabilities.dropReasons
      ? DropReasonTracer.start(topo.runId)
      : `the ${ctx.runtime.name} runtime cannot trace drop reasons`;
  if (typeof tracer === "string" && !warnedNoDropReasons) {
    warnedNoDropReasons = true;
    ctx.emit({ kind: "warning", message: `${tracer}; carrying on without them` });
  }
  return { ...ready, captures, tracer };
}

/** The drop reasons traced while the variant ran; the tracer is done after this. */
export async function stopTracer(ready: Ready): Promise<DropReasons> {
  const { tracer } = ready;
  if (typeof tracer === "string") return { counts: null, note: tracer };
  ready.tracer = "stopped";
  return tracer.stop();
}

/**
 * After a failed step: stop what `ready` started that would outlive the variant (a trace
 * instance keeps tracing, a capture keeps running), keeping nothing of it.
 */
export function abandon(ready: Ready): void {
  if (typeof ready.tracer !== "string") void stopTracer(ready).catch(() => undefined);
  for (const capture of ready.captures.values()) capture.kill();
}
