/**
 * Reading a `--json` report back (compare, and any tool that takes reports as input). Checks the
 * shape the readers rely on, so a wrong file is a clear "bad input" (exit 2), not a crash.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../util/errors.js";
import type { RunReport } from "../verdict/result.js";

const VERDICTS = new Set(["pass", "fail", "skip", "error"]);

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** What is wrong with `data` as a RunReport, or undefined when it has the shape readers use. */
export function reportProblem(data: unknown): string | undefined {
  if (!isObject(data)) return "not a JSON object";
  if (!isObject(data.tool) || data.tool.name !== "tcprepro")
    return 'not a tcprepro report (no tool.name "tcprepro")';
  if (typeof data.kernel !== "string") return "kernel is missing";
  if (!Array.isArray(data.scenarios)) return "scenarios is not a list";
  for (const [i, s] of data.scenarios.entries()) {
    const at = `scenarios[${i}]`;
    if (!isObject(s) || typeof s.name !== "string") return `${at}.name is missing`;
    if (!Array.isArray(s.variants)) return `${at}.variants is not a list`;
    for (const [j, v] of s.variants.entries()) {
      const vat = `${at}.variants[${j}]`;
      if (!isObject(v) || typeof v.variant !== "string") return `${vat}.variant is missing`;
      if (typeof v.verdict !== "string" || !VERDICTS.has(v.verdict))
        return `${vat}.verdict is not pass, fail, skip or error`;
      if (!isObject(v.nodes)) return `${vat}.nodes is not an object`;
      for (const [node, rep] of Object.entries(v.nodes)) {
        if (!isObject(rep) || !isObject(rep.counters))
          return `${vat}.nodes.${node}.counters is not an object`;
        for (const [name, n] of Object.entries(rep.counters))
          if (typeof n !== "number") return `${vat}.nodes.${node}.counters.${name} is not a number`;
      }
      if (
        !isObject(v.clients) ||
        !isObject(v.clients.outcomes) ||
        typeof v.clients.attempts !== "number"
      )
        return `${vat}.clients is not a client summary`;
      if (!Array.isArray(v.causes)) return `${vat}.causes is not a list`;
      if (!Array.isArray(v.expectations)) return `${vat}.expectations is not a list`;
    }
  }
  return undefined;
}

/** Parse a report's text; `name` (the file) prefixes every problem. */
export function parseReport(text: string, name: string): RunReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${name}: not valid JSON (${(err as Error).message})`);
  }
  const problem = reportProblem(data);
  if (problem)
    throw new UsageError(
      `${name}: ${problem}; expected a report written by \`tcprepro run --json FILE\``,
    );
  return data as RunReport;
}

export function readReport(file: string): RunReport {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseReport(text, file);
}
