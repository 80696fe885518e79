/** The `ready` step: apps listening, captures and the drop-reason tracer running. */
import { DropReasonTracer, type DropReasons } from "../evidence/drop-reasons.js";
import { NodeCapture } from "../evidence/capture.js";
import { setUpNodes } from "./setup.js";
import type { VariantState } from "./variant-state.js";

/** "Drop reasons unavailable" is said once per process, not per variant. */
let warnedNoDropReasons = false;

export async function getReady(st: VariantState): Promise<void> {
  const { ctx, topo } = st;
  const nodes = await setUpNodes(st.scenario, topo, st.instances);
  const captures = new Map<string, NodeCapture>();
  st.readiness = { ...nodes, captures };
  for (const inst of st.instances) {
    if (!ctx.captureAll && !inst.spec.capture) continue;
    const capture = await NodeCapture.start(topo.nodes.get(inst.name)!, topo.runId);
    captures.set(inst.name, capture);
    // On the good path collect stops it to read the file; on any other this kills it.
    st.own(`capture ${inst.name}`, () => capture.kill());
  }
  // A runtime whose nodes run on another kernel (a VM) traces there; else the host's tracefs.
  // IPv6 drops too when the topology has IPv6 networks (an IPv4 run keeps its IPv4-only filter).
  const ipv6 = topo.subnets6 !== undefined;
  const tracer = ctx.runtime.traceDrops
    ? await ctx.runtime.traceDrops(topo.runId, ipv6)
    : ctx.runtime.capabilities.dropReasons
      ? DropReasonTracer.start(topo.runId, ipv6)
      : `the ${ctx.runtime.name} runtime cannot trace drop reasons`;
  if (typeof tracer === "string") {
    st.tracer = tracer;
    if (!warnedNoDropReasons) {
      warnedNoDropReasons = true;
      ctx.emit({ kind: "warning", message: `${tracer}; carrying on without them` });
    }
  } else {
    // One stop for both paths: the timeline reads it, a failure just ends it.
    st.tracer = { stop: st.own("drop-reason tracer", () => tracer.stop()) };
  }
}

/** The drop reasons traced while the variant ran; the tracer is done after this. */
export async function stopTracer(st: VariantState): Promise<DropReasons> {
  const { tracer } = st;
  if (tracer === undefined || typeof tracer === "string")
    return { counts: null, note: tracer ?? "no tracer" };
  return tracer.stop();
}
