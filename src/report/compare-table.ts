/** The terminal view of `tcprepro compare`: per variant pair, only what differs, A and B side by side. */
import type { ReportComparison, VariantComparison } from "./compare.js";

const VERDICT = { pass: "PASS", fail: "FAIL", skip: "SKIP", error: "ERROR" } as const;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map(
      (r) =>
        "  " +
        r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join("  ")
          .trimEnd(),
    )
    .join("\n");
}

const delta = (a: number | null, b: number | null) =>
  a === null || b === null ? "" : b - a >= 0 ? `+${b - a}` : String(b - a);
const show = (n: number | null) => (n === null ? "—" : String(n));

function variantRows(v: VariantComparison): string[][] {
  const rows: string[][] = [["", "A", "B", "B−A"]];
  rows.push([
    "verdict",
    VERDICT[v.verdict.a],
    VERDICT[v.verdict.b],
    v.verdict.changed ? "changed" : "",
  ]);
  rows.push([
    "cause",
    v.causes.a.join(", ") || "none",
    v.causes.b.join(", ") || "none",
    v.causes.changed ? "changed" : "",
  ]);
  for (const o of v.outcomes)
    rows.push([
      o.outcome === "attempts" ? "attempts" : `clients ${o.outcome}`,
      String(o.a),
      String(o.b),
      delta(o.a, o.b),
    ]);
  for (const l of v.listen) {
    const where = l.port === null ? l.node : `${l.node}:${l.port}`;
    rows.push([`listen ${where} ${l.field}`, show(l.a), show(l.b), delta(l.a, l.b)]);
  }
  for (const x of v.expectations) {
    const cell = (s: { ok: boolean; actual: number | string | null } | null) =>
      s === null ? "—" : `${s.ok ? "met" : "FAILED"} (${s.actual})`;
    rows.push([`expect ${x.path}`, cell(x.a), cell(x.b), ""]);
  }
  const notable = v.counters.filter((c) => c.notable);
  const other = v.counters.filter((c) => !c.notable);
  for (const [i, c] of notable.entries())
    rows.push([
      `${i === 0 ? "counters" : "        "} ${c.node} ${c.counter}`,
      String(c.a),
      String(c.b),
      delta(c.a, c.b),
    ]);
  for (const [i, c] of other.entries())
    rows.push([
      `${i === 0 ? "other   " : "        "} ${c.node} ${c.counter}`,
      String(c.a),
      String(c.b),
      delta(c.a, c.b),
    ]);
  if (v.notRun) {
    rows.push(["why", v.notRun.a ?? "ran", v.notRun.b ?? "ran", ""]);
    return rows;
  }
  const p = (s: VariantComparison["connectMs"]["a"]) => (s ? `${s.p50} / ${s.p99}` : "-");
  rows.push(["connect p50/p99 ms", p(v.connectMs.a), p(v.connectMs.b), ""]);
  return rows;
}

const place = (x: { scenario: string; variant?: string }) =>
  x.variant === undefined ? `${x.scenario} (every variant)` : `${x.scenario}/${x.variant}`;

export function formatComparison(c: ReportComparison): string {
  const parts: string[] = [];
  const meta = (name: string, s: ReportComparison["a"]) =>
    `${name}  ${s.label}  (kernel ${s.kernel}, ${s.runtime}, ${s.families.join("+")}, ${s.startedAt})`;
  parts.push(`${meta("A", c.a)}\n${meta("B", c.b)}`);
  for (const v of c.variants) {
    if (!v.changed) {
      parts.push(
        `${v.scenario}/${v.variant}: no differences (${VERDICT[v.verdict.a]} in both; counters within noise)`,
      );
      continue;
    }
    parts.push(`${v.scenario}/${v.variant}: differs\n${table(variantRows(v))}`);
  }
  if (c.onlyInA.length > 0)
    parts.push(`only in A:\n${c.onlyInA.map((x) => `  ${place(x)}`).join("\n")}`);
  if (c.onlyInB.length > 0)
    parts.push(`only in B:\n${c.onlyInB.map((x) => `  ${place(x)}`).join("\n")}`);
  const s = c.summary;
  const only = s.onlyInA + s.onlyInB > 0 ? `; ${s.onlyInA} only in A, ${s.onlyInB} only in B` : "";
  const decided = c.variants.filter((v) => v.verdict.changed || v.causes.changed).length;
  parts.push(
    `${s.changed} of ${s.compared} variants differ${only}; ${decided} in verdict or cause.\n` +
      `Counters are listed when one side is 0 and the other not, or when they differ by more than ${c.rule.minAbsolute} ` +
      `and one is more than ${c.rule.minRatio}× the other; client outcomes, expectations and listen-queue limits when they differ at all (sampled queue depths by the counter rule).`,
  );
  return parts.join("\n\n") + "\n";
}
