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

/** One variant's timeline as it plays: its clock, its nodes, and where its events go. */
interface Stage {
  ctx: VariantContext;
  variant: string;
  s: Scenario;
  topo: StartedTopology;
  instances: NodeInstance[];
  ready: Ready;
  sampler: TimelineSampler;
  t0Epoch: number;
  /** Resolves when the clock reaches `ms`; `since()` is where it is now. */
  at(ms: number): Promise<void>;
  since(): number;
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
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const sampler = new TimelineSampler([...topo.nodes.values()], before, ready.appPorts, t0);
  sampler.start();
  const at = (ms: number) => sleep(Math.max(0, ms - (performance.now() - t0)));
  const since = () => Math.round(performance.now() - t0);
  const stage: Stage = { ctx, variant, s, topo, instances, ready, sampler, t0Epoch, at, since };

  const attempts: Attempt[] = [];
  const log: AppliedFault[] = [];
  await Promise.all([...traffic(stage, attempts), ...floods(stage), ...faults(stage, log)]);
  await sleep(s.settle);
  const timelineMs = since();
  const { tracer } = ready;
  const dropReasons: DropReasons =
    typeof tracer === "string" ? { counts: null, note: tracer } : tracer.stop();
  await finishFaults((target) => faultContext(stage, target), log);
  attempts.sort((a, b) => a.startMs - b.startMs);
  return { attempts, timelineMs, dropReasons, sampler };
}

const instancesOf = (st: Stage, base: string) => st.instances.filter((i) => i.base === base);

/** Every generator of `traffic:`, one per client instance; their attempts land in `attempts`. */
function traffic(st: Stage, attempts: Attempt[]): Promise<void>[] {
  const where = { scenario: st.ctx.scenario, variant: st.variant };
  const run = { s: st.s, topo: st.topo, t0Epoch: st.t0Epoch, at: st.at, attempts };
  const started = (e: { node: string; target: string; connections: number }) =>
    st.ctx.emit({ kind: "traffic.start", ...where, ...e });
  return st.s.traffic.flatMap((t) =>
    instancesOf(st, t.from).map(async (inst) => {
      await runTraffic({ ...run, started }, t, inst.name);
      const count = attempts.filter((a) => a.node === inst.name).length;
      const ms = st.since();
      st.ctx.emit({ kind: "traffic.done", ...where, node: inst.name, attempts: count, ms });
    }),
  );
}

function applied(st: Stage, target: string, action: string): void {
  const where = { scenario: st.ctx.scenario, variant: st.variant };
  st.ctx.emit({ kind: "fault.applied", ...where, atMs: st.since(), target, action });
}

/** Every SYN flood of `floods:`, one per attacker instance. */
function floods(st: Stage): Promise<void>[] {
  const node = (name: string) => st.topo.nodes.get(name)!;
  return st.s.floods.flatMap((f) =>
    instancesOf(st, f.from).map(async (inst) => {
      const host = floodHost(st.s, f, node(f.to.node));
      await runFlood({ attacker: node(inst.name), host, at: st.at, timeoutMs: st.s.timeout }, f);
      applied(st, f.to.node, `SYN flood of ${f.count} from ${inst.name}`);
    }),
  );
}

function faultContext(st: Stage, target: string) {
  return { target, node: st.topo.nodes.get(target)!, app: st.ready.apps.get(target) };
}

/** Every fault of `faults:` at its moment, marked on the timeline and recorded in `log`. */
function faults(st: Stage, log: AppliedFault[]): Promise<void>[] {
  return st.s.faults.map(async (f) => {
    await st.at(f.at);
    await applyFault(faultContext(st, f.target), f, log);
    st.sampler.mark({ target: f.target, action: describeFault(f) });
    applied(st, f.target, describeFault(f));
  });
}
