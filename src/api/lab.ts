/**
 * `startLab(scenario)`: a scenario's topology, readied as a run readies it (images built, NAT
 * rules in, apps listening, `ready:` checks passed), handed to a test for its own steps.
 * It is AsyncDisposable: `await using lab = await startLab(...)` takes it down on every path.
 */
import type { RunEvent } from "../report/events.js";
import { planTopology, routeFor, type Route } from "../run/plan.js";
import { newRunId } from "../run/run-variant.js";
import { setUpNodes } from "../run/setup.js";
import type { ExecResult, StartedNode, StartedTopology } from "../runtime/runtime.js";
import type { Scenario, Traffic } from "../scenario/schema.js";
import { UsageError } from "../util/errors.js";
import { loadScenario, type ScenarioSource } from "../engine/load.js";
import { openHostRuntime } from "../runtime/registry.js";
import type { RunOptions } from "./run.js";

export interface LabOptions extends Pick<RunOptions, "runtime" | "pool" | "base" | "onEvent"> {
  /**
   * The variant whose topology to build.
   * @default "baseline"
   */
  variant?: string;
}

export interface Lab extends AsyncDisposable {
  readonly runId: string;
  /** The scenario as the variant patched it. */
  readonly scenario: Scenario;
  /** Nodes by instance name (`server`, `client.1`). */
  readonly nodes: ReadonlyMap<string, StartedNode>;
  /** A node by instance name; throws for an unknown one. */
  node(name: string): StartedNode;
  /** Run a command in a node (throws ExecError on a non-zero exit). */
  exec(node: string, argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /** Where a client of node `from` connects to reach `to` ("server:80"): directly, or the gateway's DNAT. */
  route(from: string, to: string): Route;
  /** Take everything down; safe to call twice. */
  down(): Promise<void>;
}

export async function startLab(source: ScenarioSource, options: LabOptions = {}): Promise<Lab> {
  const loaded = loadScenario(source);
  const name = options.variant ?? "baseline";
  const variant = loaded.variants.find((v) => v.name === name);
  if (!variant)
    throw new UsageError(
      `${loaded.file} has no variant named "${name}" (it has ${loaded.variants.map((v) => v.name).join(", ")})`,
    );
  const s = variant.scenario;
  const emit = options.onEvent ?? ((_: RunEvent) => undefined);
  const say = (message: string) => emit({ kind: "prepare", message });
  const runtime =
    typeof options.runtime === "object"
      ? options.runtime
      : await openHostRuntime(options.runtime ?? "auto", options, say);
  await runtime.prepare(say);
  const { plan: planned, instances } = planTopology(s, newRunId());
  const plan = runtime.images ? await runtime.images(planned, say) : planned;
  let topo: StartedTopology | undefined;
  try {
    topo = await runtime.up(plan);
    await setUpNodes(s, topo, instances);
  } catch (err) {
    await (topo ? topo.down() : runtime.remove(plan.runId));
    throw err;
  }
  const started = topo;
  const node = (n: string) => {
    const found = started.nodes.get(n);
    if (!found)
      throw new UsageError(`no node "${n}" (nodes: ${[...started.nodes.keys()].join(", ")})`);
    return found;
  };
  return {
    runId: started.runId,
    scenario: s,
    nodes: started.nodes,
    node,
    exec: (n, argv, timeoutMs) => node(n).exec(argv, timeoutMs),
    route: (from, to) => {
      const [toNode, port] = to.split(":") as [string, string | undefined];
      for (const n of [from, toNode])
        if (!s.nodes[n]) throw new UsageError(`no node "${n}" in scenario ${s.name}`);
      const t = { from, to: { node: toNode, port: Number(port) } } as Traffic;
      return routeFor(s, started, t);
    },
    down: () => started.down(),
    [Symbol.asyncDispose]: () => started.down(),
  };
}
