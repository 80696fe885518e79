/**
 * `startLab(scenario)`: a scenario's topology, readied as a run readies it (images built, NAT
 * rules in, apps listening, `ready:` checks passed), handed to a test for its own steps.
 * It is AsyncDisposable: `await using lab = await startLab(...)` takes it down on every path.
 * `tcprepro lab up` is this with `standing: true`, then prints what it made.
 */
import { withFamily } from "../scenario/family.js";
import { loadScenario, type ScenarioSource } from "../engine/load.js";
import type { RunEvent } from "../report/events.js";
import { planTopology, routeFor, type NodeInstance, type Route } from "../run/plan.js";
import { newRunId } from "../run/variant-state.js";
import { setUpNodes } from "../run/setup.js";
import { openHostRuntime } from "../runtime/registry.js";
import type { ExecResult, Runtime, StartedNode, StartedTopology } from "../runtime/runtime.js";
import type { Scenario, Traffic } from "../scenario/schema.js";
import { UsageError } from "../util/errors.js";
import { onInterrupt } from "../util/interrupts.js";
import type { RunOptions } from "./run.js";

export interface LabOptions extends Pick<
  RunOptions,
  "runtime" | "pool" | "pool6" | "family" | "base" | "onEvent"
> {
  /**
   * The variant whose topology to build.
   * @default "baseline"
   */
  variant?: string;
  /**
   * Leave it standing after this process exits (`tcprepro lab up`): its objects are marked as
   * a lab's, which `clean` leaves and `lab down` removes. Only runtimes that keep labs.
   * @default false
   */
  standing?: boolean;
}

export interface Lab extends AsyncDisposable {
  readonly runId: string;
  /** The scenario as the variant patched it, and the variant's name. */
  readonly scenario: Scenario;
  readonly variant: string;
  /** The runtime it runs on (its name, for messages). */
  readonly runtime: string;
  /** Nodes by instance name (`server`, `client.1`), with their role and spec. */
  readonly nodes: ReadonlyMap<string, StartedNode>;
  readonly instances: readonly NodeInstance[];
  /** A node by instance name; throws for an unknown one. */
  node(name: string): StartedNode;
  /** Run a command in a node (throws ExecError on a non-zero exit). */
  exec(node: string, argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /**
   * The host command that runs a program in a node (`docker exec -it <container>`), to paste
   * into a shell; undefined when the runtime gives none.
   */
  hostCommand(node: string, interactive: boolean): string[] | undefined;
  /** Where a client of node `from` connects to reach `to` ("server:80"): directly, or the gateway's DNAT. */
  route(from: string, to: string): Route;
  /** Take everything down; safe to call twice. */
  down(): Promise<void>;
}

export async function startLab(source: ScenarioSource, options: LabOptions = {}): Promise<Lab> {
  const emit = options.onEvent ?? ((_: RunEvent) => undefined);
  const say = (message: string) => emit({ kind: "prepare", message });
  loadScenario(source); // bad input fails before the engine is asked
  const runtime: Runtime =
    typeof options.runtime === "object"
      ? options.runtime
      : await openHostRuntime(
          options.runtime ?? "auto",
          { pool: options.pool, pool6: options.pool6, base: options.base, lab: options.standing },
          say,
        );
  await runtime.prepare(say);
  const loaded = loadScenario(source, { kernel: await runtime.inventory() });
  const name = options.variant ?? "baseline";
  const variant = loaded.variants.find((v) => v.name === name);
  if (!variant)
    throw new UsageError(
      `${loaded.file} has no variant named "${name}" (it has ${loaded.variants.map((v) => v.name).join(", ")})`,
    );
  const s = withFamily(variant.scenario, options.family);
  const runId = `${options.standing ? "lab-" : ""}${newRunId()}`;
  const { plan: planned, instances } = planTopology(s, runId);
  // Until it is ready, an interrupted lab is removed like an interrupted run.
  const untrack = onInterrupt(() => runtime.remove(runId));
  let topo: StartedTopology | undefined;
  try {
    const plan = runtime.images ? await runtime.images(planned, say) : planned;
    say(`bringing up ${loaded.name} (${variant.name}): ${plan.nodes.length} nodes`);
    topo = await runtime.up(plan);
    await setUpNodes(s, topo, instances);
  } catch (err) {
    await (topo ? topo.down() : runtime.remove(runId));
    throw err;
  } finally {
    untrack();
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
    variant: variant.name,
    runtime: runtime.name,
    nodes: started.nodes,
    instances,
    node,
    exec: (n, argv, timeoutMs) => node(n).exec(argv, timeoutMs),
    hostCommand: (n, interactive) => runtime.execCommand?.(started.runId, n, interactive),
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
