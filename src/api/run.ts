/**
 * `run(scenarios, options)`: what `tcprepro run` does, as a function that resolves to the JSON
 * report (`report.scenarios[i].variants[j]`). The CLI calls it too, with its console as the sink.
 */
import { openRuntime, type RuntimeName } from "../runtime/open.js";
import type { EventSink, RunEvent } from "../report/events.js";
import { runAll } from "../run/run.js";
import type { Runtime } from "../runtime/runtime.js";
import type { LoadedScenario } from "../scenario/load.js";
import type { RunReport } from "../verdict/result.js";
import { loadSources, type ScenarioSource } from "./load.js";

export interface RunOptions {
  /**
   * `docker`, `netns`, `auto` (docker when an engine answers, else netns as root), or a Runtime.
   * @default "auto"
   */
  runtime?: RuntimeName | Runtime;
  /** Run only this variant of each scenario. */
  variant?: string;
  /**
   * Variants run at once.
   * @default 1
   */
  parallel?: number;
  /**
   * Runs of each variant; a verdict stands only if all agree.
   * @default 1
   */
  repeat?: number;
  /** Capture every node's packets (nodes with `capture: true` always are). */
  capture?: boolean;
  /** Where captures are kept. */
  capturesDir?: string;
  /**
   * Address pool for the networks.
   * @default "198.18.0.0/15"
   */
  pool?: string;
  /** Base image of the node image (docker). @default the offline debootstrap image */
  base?: string;
  /** Every event of the run (progress, attempts, faults, verdicts), as the CLI shows them. */
  onEvent?: (event: RunEvent) => void;
}

/** The runtime the options name, opened and prepared (images built when missing). */
export async function preparedRuntime(options: RunOptions, emit: EventSink): Promise<Runtime> {
  const say = (message: string) => emit({ kind: "prepare", message });
  const runtime =
    typeof options.runtime === "object"
      ? options.runtime
      : await openRuntime(
          { runtime: options.runtime, pool: options.pool, base: options.base },
          say,
        );
  await runtime.prepare(say);
  return runtime;
}

/** Loaded scenarios → the report. */
export async function runLoaded(
  scenarios: LoadedScenario[],
  options: RunOptions,
): Promise<RunReport> {
  const emit: EventSink = options.onEvent ?? (() => undefined);
  const runtime = await preparedRuntime(options, emit);
  return runAll(scenarios, {
    runtime,
    emit,
    variant: options.variant,
    parallel: options.parallel,
    repeat: options.repeat,
    captureAll: options.capture,
    capturesDir: options.capturesDir ?? "captures",
  });
}

/**
 * Run scenario files, directories of *.yaml, or scenario objects; resolves to the JSON report.
 * Bad input throws ScenarioError (every problem, with file:line and key) before anything is
 * created; a variant that fails or errors is in the report, not thrown.
 */
export async function run(
  scenarios: ScenarioSource | ScenarioSource[],
  options: RunOptions = {},
): Promise<RunReport> {
  return runLoaded(loadSources(scenarios), options);
}
