/**
 * Scenarios from files or from objects. An object goes through the same YAML loader as a file
 * (stringified), so it is validated, variant-expanded and reported the same way; its problems
 * name `<scenario NAME>` and the key instead of a file.
 */
import { stringify } from "yaml";
import type { z } from "zod";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ScenarioError, UsageError, type ScenarioProblem } from "../util/errors.js";
import { loadScenario as loadFile, type LoadedScenario } from "../scenario/load.js";
import type { ScenarioSchema } from "../scenario/schema.js";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import { resolveScenarioPath, resolveScenarioPaths } from "../scenario/catalog.js";
import type { KernelFacts } from "../scenario/semantics.js";

/** A scenario written as an object: the same keys as a scenario file (durations as "2s" or ms). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** A file path, a directory of *.yaml files (for `run`), or a scenario object. */
export type ScenarioSource = string | ScenarioInput;

export interface LoadOptions {
  /**
   * The kernel the scenarios are checked against (sysctls that must exist).
   * @default the host's kernel
   */
  kernel?: KernelFacts;
}

function objectLabel(input: ScenarioInput): string {
  return `<scenario ${typeof input.name === "string" ? input.name : "?"}>`;
}

/** Validate one scenario (file or object); throws ScenarioError with every problem. */
export function loadScenario(source: ScenarioSource, options: LoadOptions = {}): LoadedScenario {
  const facts = options.kernel ?? hostKernelFacts;
  if (typeof source === "string") return loadFile(resolveScenarioPath(source), facts);
  return loadFile(objectLabel(source), facts, stringify(source));
}

/** Files, directories and objects → loaded scenarios; all problems of all of them together. */
export function loadSources(
  sources: ScenarioSource | ScenarioSource[],
  options: LoadOptions = {},
): LoadedScenario[] {
  const list = Array.isArray(sources) ? sources : [sources];
  const facts = options.kernel ?? hostKernelFacts;
  const problems: ScenarioProblem[] = [];
  const loaded: LoadedScenario[] = [];
  for (const s of list) {
    try {
      if (typeof s === "string") loaded.push(...loadAll(expandPaths([s]), facts));
      else loaded.push(loadScenario(s, options));
    } catch (err) {
      if (err instanceof ScenarioError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ScenarioError(problems);
  return loaded;
}

const SCENARIO_FILE = /\.ya?ml$/;

/** Files or catalog names as given (none: the default catalog), directories expanded to their *.yaml files (sorted, not recursive). */
export function expandPaths(paths: string[]): string[] {
  return resolveScenarioPaths(paths).flatMap((p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    if (!st.isDirectory()) return [p];
    const files = readdirSync(p)
      .filter((f) => SCENARIO_FILE.test(f))
      .sort()
      .map((f) => join(p, f));
    if (files.length === 0)
      throw new UsageError(`${p}: no *.yaml scenario files in this directory`);
    return files;
  });
}

/** Load every file; all problems of all files are reported together. */
export function loadAll(files: string[], facts: KernelFacts): LoadedScenario[] {
  const problems: ScenarioProblem[] = [];
  const loaded: LoadedScenario[] = [];
  for (const file of files) {
    try {
      loaded.push(loadFile(file, facts));
    } catch (err) {
      if (err instanceof ScenarioError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ScenarioError(problems);
  return loaded;
}
