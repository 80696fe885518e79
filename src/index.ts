/** The package's entry point: load scenarios, run them, and the report's types. */
export { loadScenario } from "./scenario/load.js";
export type { LoadedScenario, Variant } from "./scenario/load.js";
export { expandPaths, loadAll, runAll } from "./run/run.js";
export type { RunOptions } from "./run/run.js";
export type { RunReport, ScenarioResult, VariantResult, VerdictKind } from "./verdict/result.js";
