/**
 * The checks behind `tcprepro/vitest`'s matchers, on a variant result or a whole report (then
 * every variant). Pure: each returns whether it holds and the lines that say why, worded like
 * the CLI's expected vs actual.
 */
import { Check, type Comparison } from "../scenario/schema.js";
import { compare, nodeInstances } from "./expect.js";
import type { RunReport, ScenarioResult, VariantResult } from "./result.js";

export type Judged = RunReport | ScenarioResult | VariantResult;

/**
 * Which variant of a report a matcher looks at. `scenario` may be left out when the report has
 * one; `variant` defaults to the baseline; `kernel` (`"6.1"`, `"host"`) is needed only when the
 * report ran on several. Without a pick, a matcher looks at every variant.
 */
export interface VariantPick {
  scenario?: string;
  /** @default "baseline" */
  variant?: string;
  kernel?: string;
}

export interface MatcherOutcome {
  pass: boolean;
  /** One line per variant: what was expected and what happened. */
  lines: string[];
}

interface Labelled {
  label: string;
  v: VariantResult;
}

function variantsOf(x: Judged): Labelled[] {
  if ("scenarios" in x)
    return x.scenarios.flatMap((s) =>
      s.variants.map((v) => ({ label: `${s.name}/${v.variant}`, v })),
    );
  if ("variants" in x) return x.variants.map((v) => ({ label: `${x.name}/${v.variant}`, v }));
  if ("verdict" in x) return [{ label: x.variant, v: x }];
  throw new TypeError("expected a tcprepro report, scenario result or variant result");
}

/** The one variant a pick names, or a TypeError that says what to name. */
export function pickVariant(x: Judged, p: VariantPick): Labelled {
  if ("verdict" in x) return { label: x.variant, v: x };
  const scenarios = "scenarios" in x ? x.scenarios : [x];
  const names = scenarios.map((s) => s.name);
  if (!p.scenario && scenarios.length > 1)
    throw new TypeError(`the report has scenarios ${names.join(", ")}: pick one with { scenario }`);
  const sc = p.scenario ? scenarios.find((s) => s.name === p.scenario) : scenarios[0];
  if (!sc)
    throw new TypeError(
      `the report has no scenario "${p.scenario}" (it has ${names.join(", ") || "none"})`,
    );
  const variant = p.variant ?? "baseline";
  const ofVariant = sc.variants.filter((v) => v.variant === variant);
  const kernels = [...new Set(ofVariant.map((v) => v.kernel ?? "host"))];
  if (ofVariant.length === 0)
    throw new TypeError(
      `${sc.name} has no variant "${variant}" (it has ${[...new Set(sc.variants.map((v) => v.variant))].join(", ")})`,
    );
  if (!p.kernel && ofVariant.length > 1)
    throw new TypeError(
      `${sc.name}/${variant} ran on kernels ${kernels.join(", ")}: pick one with { kernel }`,
    );
  const v = p.kernel ? ofVariant.find((r) => (r.kernel ?? "host") === p.kernel) : ofVariant[0];
  if (!v)
    throw new TypeError(
      `${sc.name}/${variant} did not run on kernel ${p.kernel} (it ran on ${kernels.join(", ")})`,
    );
  return { label: `${sc.name}/${variant}${v.kernel ? `@${v.kernel}` : ""}`, v };
}

function all(
  x: Judged,
  judge: (l: Labelled) => { ok: boolean; line: string },
  pick?: VariantPick,
): MatcherOutcome {
  const variants = pick ? [pickVariant(x, pick)] : variantsOf(x);
  if (variants.length === 0) return { pass: false, lines: ["no variant ran"] };
  const judged = variants.map(judge);
  return { pass: judged.every((j) => j.ok), lines: judged.map((j) => j.line) };
}

/** Every variant's verdict is pass; otherwise its failed expectations, as the CLI lists them. */
export function checkPass(x: Judged, pick?: VariantPick): MatcherOutcome {
  return all(
    x,
    ({ label, v }) => {
      if (v.verdict === "pass") return { ok: true, line: `${label}: PASS (${v.reason})` };
      const failed = v.expectations.filter((e) => !e.ok);
      const detail =
        v.verdict === "fail" && failed.length > 0
          ? failed
              .map(
                (e) =>
                  `\n    ${e.path}: expected ${e.expected}, got ${e.actual}${e.source ? ` (${e.source})` : ""}`,
              )
              .join("")
          : ` ${v.reason}`;
      return { ok: false, line: `${label}: ${v.verdict.toUpperCase()}${detail}` };
    },
    pick,
  );
}

/** The diagnosis named `cause` in every variant (`none`: named nothing). */
export function checkCause(x: Judged, cause: string, pick?: VariantPick): MatcherOutcome {
  return all(
    x,
    ({ label, v }) => {
      // A healthy run names the cause "none"; nothing named at all (an error) is none too.
      const named = v.causes.map((c) => c.cause).filter((c) => c !== "none");
      const ok = cause === "none" ? named.length === 0 : named.includes(cause);
      const because = v.causes.map((c) => `\n    ${c.cause}: ${c.because}`).join("");
      return {
        ok,
        line: `${label}: cause: expected ${cause}, got ${named.length > 0 ? named.join(", ") : "none"}${v.verdict === "error" ? ` (ERROR: ${v.reason})` : ""}${because}`,
      };
    },
    pick,
  );
}

/** Parses `"> 0"`, `">= 10"`, `5` like a scenario's expectation. */
export function parseCheck(check: string | number): Comparison {
  const parsed = Check.safeParse(check);
  if (!parsed.success) throw new TypeError(parsed.error.issues[0]?.message ?? "bad comparison");
  return parsed.data;
}

/** A node's counter delta (replicas summed; a counter that did not move is 0) meets `check`. */
export function checkCounter(
  x: Judged,
  node: string,
  counter: string,
  check: string | number,
  pick?: VariantPick,
): MatcherOutcome {
  const c = parseCheck(check);
  return all(
    x,
    ({ label, v }) => {
      const instances = nodeInstances(v.nodes, node);
      if (instances.length === 0)
        return {
          ok: false,
          line: `${label}: counters.${node}.${counter}: expected ${c.text}, got no node "${node}"${v.verdict === "error" || v.verdict === "skip" ? ` (${v.verdict.toUpperCase()}: ${v.reason})` : ""}`,
        };
      const actual = instances.reduce((sum, n) => sum + (n.counters[counter] ?? 0), 0);
      return {
        ok: compare(actual, c),
        line: `${label}: counters.${node}.${counter}: expected ${c.text}, got ${actual}`,
      };
    },
    pick,
  );
}
