/**
 * The `timeline` step: traffic, floods and faults each at their moment on the variant's clock,
 * in order (see timed-steps.ts), then `settle`. Counters and the accept queue are sampled all
 * along.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import type { DropReasons } from "../model/evidence.js";
import { TimelineSampler } from "../evidence/timeline.js";
import type { Attempt } from "../evidence/types.js";
import type { AppliedFault } from "../faults/fault.js";
import { floodHost, prepareFlood, sendFlood, type Flood } from "../faults/flood.js";
import { applyFault, describeFault, finishFaults } from "../faults/registry.js";
import type { StartedTopology } from "../runtime/runtime.js";
import type { Scenario } from "../scenario/schema.js";
import { stopTracer } from "./ready.js";
import { TimedSteps, type TimedStep } from "./timed-steps.js";
import { runCommandTraffic } from "../traffic/command-traffic.js";
import { routeFor } from "./plan.js";
import { startTraffic } from "./traffic.js";
import type { VariantState } from "./variant-state.js";

/** One variant's timeline as it plays: its state, its sampler and its clock. */
interface Stage {
  ctx: VariantState["ctx"];
  variant: string;
  s: Scenario;
  topo: StartedTopology;
  instances: VariantState["instances"];
  ready: VariantState["ready"];
  sampler: TimelineSampler;
  t0Epoch: number;
  /** Where the clock is now, ms. */
  since(): number;
}

/**
 * Plays the timeline into `st.played`. The variant's signal (a deadline, Ctrl-C) cancels it;
 * so does the first step that fails. Either way every generator has stopped before this
 * rejects. The sampler it starts is the variant's: collect reads it, or the variant stops it.
 */
export async function playTimeline(st: VariantState): Promise<void> {
  const { scenario: s, topo } = st;
  for (const f of s.floods)
    for (const inst of st.instances.filter((i) => i.base === f.from))
      await prepareFlood(floodContext(s, topo, f, inst.name));
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const sampler = new TimelineSampler(
    [...topo.nodes.values()],
    st.before!,
    st.ready.appPorts,
    t0,
    st.ctx.runtime.capabilities.sampleEveryMs,
  );
  st.sampler = sampler;
  st.own("counter sampler", () => sampler.cancel());
  sampler.start();
  const since = () => Math.round(performance.now() - t0);
  const stage: Stage = {
    ctx: st.ctx,
    variant: st.name,
    s,
    topo,
    instances: st.instances,
    ready: st.ready,
    sampler,
    t0Epoch,
    since,
  };
  const attempts: Attempt[] = [];
  const log: AppliedFault[] = [];
  const steps = new TimedSteps(t0);
  const cancel = () => steps.cancel(st.signal.reason);
  st.signal.addEventListener("abort", cancel, { once: true });
  if (st.signal.aborted) cancel();
  try {
    await steps.run([...traffic(stage, attempts), ...floods(stage), ...faults(stage, log)]);
    await sleepFor(s.settle, undefined, { signal: st.signal });
  } finally {
    st.signal.removeEventListener("abort", cancel);
  }
  const timelineMs = since();
  const dropReasons: DropReasons = await stopTracer(st);
  await finishFaults((target) => faultContext(stage, target), log);
  attempts.sort((a, b) => a.startMs - b.startMs);
  st.played = { attempts, timelineMs, dropReasons };
}

const instancesOf = (st: Stage, base: string) => st.instances.filter((i) => i.base === base);

/** Every generator of `traffic:`, one per client instance; their attempts land in `attempts`. */
function traffic(st: Stage, attempts: Attempt[]): TimedStep[] {
  const where = { scenario: st.ctx.scenario, variant: st.variant };
  const run = { s: st.s, topo: st.topo, t0Epoch: st.t0Epoch, attempts };
  const started = (e: { node: string; target: string; connections: number }) =>
    st.ctx.emit({ kind: "traffic.start", ...where, ...e });
  const finished = (node: string) => () => {
    const count = attempts.filter((a) => a.node === node).length;
    st.ctx.emit({ kind: "traffic.done", ...where, node, attempts: count, ms: st.since() });
  };
  return st.s.traffic.flatMap((t, index) =>
    instancesOf(st, t.from).map((inst) => ({
      atMs: t.at,
      begin: async (signal: AbortSignal) => {
        if (t.command) {
          // A real client: its runner is armed and releases its runs together, now.
          started({
            node: inst.name,
            target: `${t.to.node}:${t.to.port}`,
            connections: t.connections,
          });
          const runs = runCommandTraffic(
            st.topo.nodes.get(inst.name)!,
            t,
            routeFor(st.s, st.topo, t),
            {
              t0Epoch: st.t0Epoch,
              atMs: t.at,
              boundMs: Math.max(1_000, st.s.timeout - t.at),
              id: String(index),
            },
          );
          return { done: runs.then((r) => void attempts.push(...r)).then(finished(inst.name)) };
        }
        const { done } = await startTraffic({ ...run, started }, t, inst.name, signal);
        return { done: done.then(finished(inst.name)) };
      },
    })),
  );
}

function applied(st: Stage, target: string, action: string): void {
  const where = { scenario: st.ctx.scenario, variant: st.variant };
  st.ctx.emit({ kind: "fault.applied", ...where, atMs: st.since(), target, action });
}

function floodContext(s: Scenario, topo: StartedTopology, f: Flood, attacker: string) {
  const node = (name: string) => topo.nodes.get(name)!;
  const host = floodHost(s, f, node(f.to.node));
  return { attacker: node(attacker), host, timeoutMs: s.timeout };
}

/** Every SYN flood of `floods:`, one per attacker instance: in effect once it was sent. */
function floods(st: Stage): TimedStep[] {
  return st.s.floods.flatMap((f) =>
    instancesOf(st, f.from).map((inst) => ({
      atMs: f.at,
      begin: async () => {
        await sendFlood(floodContext(st.s, st.topo, f, inst.name), f);
        applied(st, f.to.node, `SYN flood of ${f.count} from ${inst.name}`);
      },
    })),
  );
}

function faultContext(st: Stage, target: string) {
  return { target, node: st.topo.nodes.get(target)!, app: st.ready.apps.get(target) };
}

/** Every fault of `faults:` at its moment, marked on the timeline and recorded in `log`. */
function faults(st: Stage, log: AppliedFault[]): TimedStep[] {
  return st.s.faults.map((f) => ({
    atMs: f.at,
    begin: async () => {
      await applyFault(faultContext(st, f.target), f, log);
      st.sampler.mark({ target: f.target, action: describeFault(f) });
      applied(st, f.target, describeFault(f));
    },
  }));
}
