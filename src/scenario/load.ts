/**
 * Scenario files → validated, variant-expanded models. Every problem is reported with the file,
 * line, column and key it comes from, all at once, before anything is created.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ScenarioError, type ScenarioProblem } from "../util/errors.js";
import { ScenarioSchema, type Expect, type Scenario } from "./schema.js";
import { checkReferences, type KernelFacts } from "./semantics.js";
import { resolveBuildContexts } from "./semantics-user.js";

export const BASELINE = "baseline";

/** One runnable variant: the scenario with its `set` patches applied and its own expect. */
export interface Variant {
  name: string;
  scenario: Scenario;
  /** Where each expectation was written: `counters.server.TcpExtListenOverflows` → "file:12". */
  expectSource: Record<string, string>;
}

export interface LoadedScenario {
  file: string;
  name: string;
  summary: string;
  symptom?: string;
  variants: Variant[];
}

type Path = readonly PropertyKey[];

class Locator {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    readonly lines: LineCounter,
  ) {}

  /** Position of the deepest node along `path` that exists (the key itself where possible). */
  at(path: Path): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = (this.doc.contents?.range?.[0] as number | undefined) ?? 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (!item) break;
        offset = (item as { range?: [number] }).range?.[0] ?? offset;
        node = item;
      } else break;
    }
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  problem(path: Path, message: string): ScenarioProblem {
    return { file: this.file, key: path.map(String).join("."), message, ...this.at(path) };
  }
}

function zodProblems(
  loc: Locator,
  issues: z.core.$ZodIssue[],
  prefix: Path = [],
): ScenarioProblem[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => loc.problem([...path, k], `unknown key "${k}"`));
    }
    if (issue.code === "invalid_key") {
      // A bad name used as a key (a node, a counter): say what is wrong with the name itself.
      const inner = issue.issues[0]?.message ?? issue.message;
      return [loc.problem(path, `invalid name "${String(issue.path.at(-1) ?? "")}": ${inner}`)];
    }
    return [loc.problem(path, issue.message)];
  });
}

/** Parse and validate one file. Throws ScenarioError with every problem found. */
export function loadScenario(file: string, facts: KernelFacts, text?: string): LoadedScenario {
  let source: string;
  try {
    source = text ?? readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioError([
      { file, line: 0, column: 0, key: "", message: `cannot read: ${(err as Error).message}` },
    ]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const loc = new Locator(file, doc, lines);
  if (doc.errors.length > 0) {
    const seen = new Set<string>();
    const problems = doc.errors.flatMap((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      const message = e.message.split("\n")[0]!;
      const id = `${line}:${col}:${message}`;
      if (seen.has(id)) return [];
      seen.add(id);
      return [{ file, line, column: col, key: "", message }];
    });
    throw new ScenarioError(problems);
  }
  const raw: unknown = doc.toJS();
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ScenarioError([
      loc.problem([], "a scenario file is a YAML mapping (name:, nodes:, …)"),
    ]);
  }
  resolveBuildContexts(raw as Record<string, unknown>, file);
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(zodProblems(loc, parsed.error.issues));
  const base = parsed.data;
  const problems = checkReferences(base, facts).map((p) => loc.problem(p.path, p.message));
  if (problems.length > 0) throw new ScenarioError(problems);

  const variants: Variant[] = [
    { name: BASELINE, scenario: base, expectSource: expectSources(loc, ["expect"], base.expect) },
  ];
  for (const [name, v] of Object.entries(base.variants)) {
    variants.push(
      expandVariant(loc, raw as Record<string, unknown>, base, name, v.set, v.expect, facts),
    );
  }
  return { file, name: base.name, summary: base.summary, symptom: base.symptom, variants };
}

function expandVariant(
  loc: Locator,
  raw: Record<string, unknown>,
  base: Scenario,
  name: string,
  set: Record<string, unknown>,
  expect: Expect | undefined,
  facts: KernelFacts,
): Variant {
  const setPath = (key: string): Path => ["variants", name, "set", key];
  const patched = structuredClone(raw);
  delete patched.variants;
  const problems: ScenarioProblem[] = [];
  for (const [key, value] of Object.entries(set)) {
    const err = applySet(patched, splitSetKey(key), value);
    if (err) problems.push(loc.problem(setPath(key), err));
  }
  if (problems.length > 0) throw new ScenarioError(problems);
  // Errors in the patched scenario are reported at the `set` key that caused them.
  const blame = (path: Path): Path => {
    const p = path.map(String).join(".");
    const key = Object.keys(set).find((k) => p.startsWith(k) || k.startsWith(p));
    return key ? setPath(key) : ["variants", name, "set"];
  };
  const parsed = ScenarioSchema.safeParse(patched);
  if (!parsed.success) {
    throw new ScenarioError(
      parsed.error.issues.map((i) => ({
        ...loc.problem(blame(i.path), i.message),
        key: `variants.${name}.set (${i.path.join(".")})`,
      })),
    );
  }
  const semantic = checkReferences(parsed.data, facts);
  if (semantic.length > 0) {
    throw new ScenarioError(
      semantic.map((p) => ({
        ...loc.problem(blame(p.path), p.message),
        key: `variants.${name}.set (${p.path.join(".")})`,
      })),
    );
  }
  const scenario: Scenario = { ...parsed.data, expect: expect ?? base.expect, variants: {} };
  const expectPath = expect ? ["variants", name, "expect"] : ["expect"];
  return { name, scenario, expectSource: expectSources(loc, expectPath, scenario.expect) };
}

/**
 * `nodes.client.sysctls.net.ipv4.tcp_syn_retries` (or `kernelSysctls.net.…`) → the sysctl name
 * stays one segment.
 */
export function splitSetKey(key: string): string[] {
  const parts = key.split(".");
  const i = parts.findIndex((p) => p === "sysctls" || p === "kernelSysctls");
  return i >= 0 && i < parts.length - 1
    ? [...parts.slice(0, i + 1), parts.slice(i + 1).join(".")]
    : parts;
}

function applySet(
  target: Record<string, unknown>,
  path: string[],
  value: unknown,
): string | undefined {
  let node: Record<string, unknown> | unknown[] = target;
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      const idx = Number(seg);
      if (!Number.isInteger(idx) || idx < 0 || idx >= node.length)
        return `"${seg}" is not an index of that list`;
      if (last) node[idx] = value;
      else node = node[idx] as Record<string, unknown>;
      continue;
    }
    if (last) {
      node[seg] = value;
      break;
    }
    const next = node[seg];
    if (next === undefined || next === null) node[seg] = {};
    else if (typeof next !== "object")
      return `"${path.slice(0, i + 1).join(".")}" is not a mapping`;
    node = node[seg] as Record<string, unknown>;
  }
  return undefined;
}

function expectSources(loc: Locator, prefix: string[], expect: Expect): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string[], value: unknown): void => {
    if (value && typeof value === "object" && !("op" in value) && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk([...path, k], v);
    } else {
      out[path.join(".")] = `${loc.file}:${loc.at([...prefix, ...path]).line}`;
    }
  };
  walk([], expect);
  return out;
}
