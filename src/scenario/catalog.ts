/**
 * Where scenario paths come from when a command is given none, or given a name instead of a
 * path. The catalog ships inside the package (`<package>/scenarios`), so a project that
 * installed tcprepro has it under node_modules: it is the default when `./scenarios` does not
 * exist, and its scenarios can be named (`accept-queue-overflow`) rather than pathed.
 * Every command that takes scenario paths, and the API, resolves them here.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import { UsageError } from "../util/errors.js";
import { PROJECT_ROOT } from "../util/project.js";

/** The packaged catalog: `scenarios/` of the package this module belongs to. */
export const CATALOG_DIR = join(PROJECT_ROOT, "scenarios");

const SCENARIO_FILE = /\.ya?ml$/;

/** A path as the user would type it from here: relative when under the working directory. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** The names the catalog answers to: its files without `.yaml` (each is its scenario's `name`). */
export function catalogNames(dir = CATALOG_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => SCENARIO_FILE.test(f))
      .map((f) => f.replace(SCENARIO_FILE, ""))
      .sort();
  } catch {
    return [];
  }
}

/**
 * What "no paths given" means: `./scenarios` when there is one (a checkout, or a project with
 * its own scenarios), else the packaged catalog.
 */
export function defaultScenarioDir(): string {
  return existsSync("scenarios") ? "scenarios" : shown(CATALOG_DIR);
}

/** Edit distance, for "did you mean": names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

/** Catalog names close to `word`: sharing a part (`queue`, `syn`) or a few edits away. */
export function closeNames(word: string, names: string[]): string[] {
  const w = word.toLowerCase();
  const parts = w.split(/[-_.]/).filter((p) => p.length >= 3);
  return names.filter(
    (n) =>
      n.includes(w) ||
      w.includes(n) ||
      parts.some((p) => n.split("-").includes(p)) ||
      distance(w, n) <= Math.max(2, Math.floor(n.length / 4)),
  );
}

/**
 * One argument → a path: an existing file or directory as given; otherwise a catalog name
 * (with or without `.yaml`) → its file. Anything else is exit 2, naming the close and the known
 * names.
 */
export function resolveScenarioPath(arg: string, dir = CATALOG_DIR): string {
  if (existsSync(arg)) return arg;
  const pathLike = arg.includes("/") || arg.includes(sep);
  const name = basename(arg).replace(SCENARIO_FILE, "");
  const names = catalogNames(dir);
  if (!pathLike && names.includes(name)) {
    const file = [".yaml", ".yml"].map((e) => join(dir, name + e)).find((f) => existsSync(f));
    if (file) return shown(file);
  }
  if (pathLike)
    throw new UsageError(
      `${arg}: no such file or directory` +
        (names.includes(name) ? ` (the catalog has ${name}: name it instead of pathing it)` : ""),
    );
  const close = closeNames(name, names);
  throw new UsageError(
    `${arg}: neither a file nor a scenario of the catalog (${shown(dir)})` +
      (close.length > 0 ? `; did you mean ${close.join(", ")}?` : "") +
      `\nthe catalog's scenarios: ${names.join(", ")}`,
  );
}

/** The scenario paths a command was given → paths; none given → the default directory. */
export function resolveScenarioPaths(args: readonly string[]): string[] {
  if (args.length === 0) return [defaultScenarioDir()];
  return args.map((a) => resolveScenarioPath(a));
}
