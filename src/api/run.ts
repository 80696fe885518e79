/**
 * `run(scenarios, options)`: what `tcprepro run` does, as a function that resolves to the same
 * report the CLI writes (`report.scenarios[i].variants[j]`). Both go through the engine.
 */
import { runEngine, type EngineOptions } from "../engine/run.js";
import type { RunReport } from "../verdict/result.js";
import type { ScenarioSource } from "../engine/load.js";

/**
 * Options of `run()`: the CLI's flags as an object.
 *
 * `runtime`: a registered runtime (`docker`, `netns`, `vm`), `auto` (the first that can run
 * here), or a Runtime object. `vm` runs in a VM on `kernel` (or the newest fetched kernel), and
 * fails saying so when that kernel is not fetched — never elsewhere.
 * `kernels: ["6.1", "7.2", "host"]` runs on each; every variant result then names its kernel.
 */
export type RunOptions = Omit<EngineOptions, "set">;

/**
 * Run scenario files, directories of *.yaml, or scenario objects; resolves to the JSON report.
 * Bad input throws ScenarioError (every problem, with file:line and key) before anything is
 * created; a variant that fails or errors is in the report, not thrown.
 */
export async function run(
  scenarios: ScenarioSource | ScenarioSource[],
  options: RunOptions = {},
): Promise<RunReport> {
  return runEngine(Array.isArray(scenarios) ? scenarios : [scenarios], options);
}
