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

function behaviourRow(v: VariantComparison): string {
  const verdict = v.verdict.changed
    ? `${VERDICT[v.verdict.a]} → ${VERDICT[v.verdict.b]}`
    : VERDICT[v.verdict.a];
  const causes = v.causes.changed
    ? `${v.causes.a.join(", ") || "none"} → ${v.causes.b.join(", ") || "none"}`
    : v.causes.a.join(", ") || "none";
  const details = v.notRun
    ? [v.notRun.a ?? "", v.notRun.b ?? ""].filter(Boolean)
    : [
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
  return `<tr><th scope="row">${e(`${v.scenario}/${v.variant}`)}</th><td>${e(verdict)}</td><td>${e(causes)}</td><td>${details.map(e).join("<br>")}</td></tr>`;
}

export function kernelDiffSection(report: RunReport): string {
  const [first, ...others] = Object.keys(report.kernels ?? {});
  if (!first || others.length === 0) return "";
  const parts = others.map((k) => {
    const d = diffKernels(report, first, k);
    const changed = d.behaviour.variants.filter((v) => v.changed);
    const facts = kernelFactLines(d);
    return [
      `<h3>${e(`kernel ${first} (${d.releases.a}) → kernel ${k} (${d.releases.b})`)}</h3>`,
      `<h4>Behaviour: ${changed.length} of ${d.behaviour.summary.compared} variants differ</h4>`,
      changed.length > 0
        ? `<table class="kernel-diff"><thead><tr><th>variant</th><th>verdict</th><th>causes</th><th>what differs</th></tr></thead><tbody>${changed.map(behaviourRow).join("")}</tbody></table>`
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
