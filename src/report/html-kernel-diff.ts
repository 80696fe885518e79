/**
 * The kernel diff of a matrix report in HTML: for the first kernel against each other one,
 * the variants whose behaviour differs (verdict, causes, client outcomes, the notable counters),
 * then what differs in the kernels themselves (kernel-diff.ts).
 */
import type { RunReport } from "../verdict/result.js";
import type { VariantComparison } from "./compare.js";
import { htmlEscape as e } from "./html-escape.js";
import { diffKernels, kernelFactLines } from "./kernel-diff.js";

const VERDICT = { pass: "PASS", fail: "FAIL", skip: "SKIP", error: "ERROR" } as const;

/** What a row says beyond verdict and causes: outcomes, expectations, notable counters. */
function details(v: VariantComparison): string[] {
  if (v.notRun) return [v.notRun.a ?? "", v.notRun.b ?? ""].filter(Boolean);
  return [
    ...v.outcomes.map((o) => `clients ${o.outcome}: ${o.a} → ${o.b}`),
    ...v.expectations.map(
      (x) =>
        `${x.path}: ${x.a ? (x.a.ok ? "met" : "failed") : "—"} → ${x.b ? (x.b.ok ? "met" : "failed") : "—"}`,
    ),
    ...v.counters
      .filter((c) => c.notable)
      .slice(0, 6)
      .map((c) => `${c.node} ${c.counter}: ${c.a} → ${c.b}`),
  ];
}

function behaviourRow(v: VariantComparison): string {
  const verdict = v.verdict.changed
    ? `${VERDICT[v.verdict.a]} → ${VERDICT[v.verdict.b]}`
    : VERDICT[v.verdict.a];
  const causes = v.causes.changed
    ? `${v.causes.a.join(", ") || "none"} → ${v.causes.b.join(", ") || "none"}`
    : v.causes.a.join(", ") || "none";
  return `<tr><th scope="row">${e(`${v.scenario}/${v.variant}`)}</th><td>${e(verdict)}</td><td>${e(causes)}</td><td>${details(v).map(e).join("<br>")}</td></tr>`;
}

export function kernelDiffSection(report: RunReport): string {
  const [first, ...others] = Object.keys(report.kernels ?? {});
  if (!first || others.length === 0) return "";
  const parts = others.map((k) => {
    const d = diffKernels(report, first, k);
    // Verdicts and causes first, then what clients saw or notable counters; variants that
    // differ only in other counters are counted, not listed (the terminal lists them).
    const decided = d.behaviour.variants.filter((v) => v.verdict.changed || v.causes.changed);
    const shown = [
      ...decided,
      ...d.behaviour.variants.filter(
        (v) => v.changed && !decided.includes(v) && details(v).length > 0,
      ),
    ];
    const changed = d.behaviour.variants.filter((v) => v.changed);
    const quiet = changed.length - shown.length;
    const facts = kernelFactLines(d);
    return [
      `<h3>${e(`kernel ${first} (${d.releases.a}) → kernel ${k} (${d.releases.b})`)}</h3>`,
      `<h4>Behaviour: ${decided.length} of ${d.behaviour.summary.compared} variants differ in verdict or cause, ${changed.length} in anything</h4>`,
      shown.length > 0
        ? `<table class="kernel-diff"><thead><tr><th>variant</th><th>verdict</th><th>causes</th><th>what differs</th></tr></thead><tbody>${shown.map(behaviourRow).join("")}</tbody></table>`
        : "",
      quiet > 0
        ? `<p class="muted">${quiet} more differ only in counters outside the notable ones (\`tcprepro compare --kernels ${first},${k}\` lists them).</p>`
        : "",
      facts.length > 0
        ? `<h4>The kernels themselves</h4><ul class="kernel-facts">${facts.map((l) => `<li>${e(l)}</li>`).join("")}</ul>`
        : "",
    ]
      .filter(Boolean)
      .join("\n");
  });
  return `<section class="kernel-diff" id="kernel-diff">\n<h2>What differs between kernels</h2>\n${parts.join("\n")}\n</section>`;
}
