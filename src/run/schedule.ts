/**
 * The `timeline` step: traffic, floods and faults each at their moment on the variant's clock,
 * then `settle`. Counters and the accept queue are sampled all along.
 */
import type { DropReasons } from "../evidence/drop-reasons.js";
import type { Counters } from "../evidence/types.js";
import { TimelineSampler } from "../evidence/timeline.js";
import type { Attempt } from "../evidence/types.js";
import type { AppliedFault } from "../faults/fault.js";
import { floodHost, runFlood } from "../faults/flood.js";
import { applyFault, describeFault, finishFaults } from "../faults/registry.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";
import { sleep } from "../util/time.js";
import type { NodeInstance } from "./plan.js";
import type { Ready } from "./ready.js";
import type { VariantContext } from "./run-variant.js";
import { runTraffic } from "./traffic.js";

export interface Played {
  attempts: Attempt[];
  /** The part the scenario itself asks for: traffic, faults, settle. */
  timelineMs: number;
  dropReasons: DropReasons;
  /** Still sampling: the collect step stops it once the final counters are read. */
  sampler: TimelineSampler;
}

export async function playTimeline(
  ctx: VariantContext,
  variant: string,
  s: Scenario,
  topo: StartedTopology,
  instances: NodeInstance[],
  ready: Ready,
  before: Map<string, Counters>,
): Promise<Played> {
  const node = (name: string) => topo.nodes.get(name)!;
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const sampler = new TimelineSampler([...topo.nodes.values()], before, ready.appPorts, t0);
  sampler.start();
  const at = (ms: number) => sleep(Math.max(0, ms - (performance.now() - t0)));
  const since = () => Math.round(performance.now() - t0);
  const where = { scenario: ctx.scenario, variant };
  const applied = (target: string, action: string) =>
    ctx.emit({ kind: "fault.applied", ...where, atMs: since(), target, action });
  const instancesOf = (base: string) => instances.filter((inst) => inst.base === base);

  const attempts: Attempt[] = [];
  const run = { s, topo, t0Epoch, at, attempts };
  const started = (e: { node: string; target: string; connections: number }) =>
    ctx.emit({ kind: "traffic.start", ...where, ...e });
  const traffic = s.traffic.flatMap((t) =>
    instancesOf(t.from).map(async (inst) => {
      await runTraffic({ ...run, started }, t, inst.name);
      const count = attempts.filter((a) => a.node === inst.name).length;
      ctx.emit({ kind: "traffic.done", ...where, node: inst.name, attempts: count, ms: since() });
    }),
  );
  const floods = s.floods.flatMap((f) =>
    instancesOf(f.from).map(async (inst) => {
      const host = floodHost(s, f, node(f.to.node));
      await runFlood({ attacker: node(inst.name), host, at, timeoutMs: s.timeout }, f);
      applied(f.to.node, `SYN flood of ${f.count} from ${inst.name}`);
    }),
  );
  const log: AppliedFault[] = [];
  const faultContext = (target: string) => ({
    target,
    node: node(target),
    app: ready.apps.get(target),
  });
  const faults = s.faults.map(async (f) => {
    await at(f.at);
    await applyFault(faultContext(f.target), f, log);
    sampler.mark({ target: f.target, action: describeFault(f) });
    applied(f.target, describeFault(f));
  });
  await Promise.all([...traffic, ...floods, ...faults]);
  await sleep(s.settle);
  const timelineMs = since();
  const { tracer } = ready;
  const dropReasons: DropReasons =
    typeof tracer === "string" ? { counts: null, note: tracer } : tracer.stop();
  await finishFaults(faultContext, log);
  attempts.sort((a, b) => a.startMs - b.startMs);
  return { attempts, timelineMs, dropReasons, sampler };
}
