/**
 * The HTML report (`run --html FILE`): one self-contained page, readable offline and attachable
 * to a review. Per scenario, its variants side by side (like the terminal table), then one card
 * per variant: the verdict, the attempt plot, the counter and accept-queue timeline, the causes and why, the failed expectations with
 * the line they were written on, and the listen queue.
 *
 * Self-contained by construction: inline CSS and SVG only, no script, and a Content-Security-
 * Policy that forbids the browser to fetch anything at all.
 */
import type { RunReport, ScenarioResult, VariantResult } from "../verdict/result.js";
import { attemptPlot } from "./attempt-plot.js";
import { htmlEscape as e } from "./html-escape.js";
import { kernelDiffSection } from "./html-kernel-diff.js";
import { HTML_STYLE } from "./html-style.js";
import { notableCounters, signed } from "./notable.js";
import { timelinePlot } from "./timeline-plot.js";

const VERDICT: Record<VariantResult["verdict"], string> = {
  pass: "PASS",
  fail: "FAIL",
  skip: "SKIP",
  error: "ERROR",
};

const badge = (v: VariantResult["verdict"]) => `<span class="badge ${v}">${VERDICT[v]}</span>`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Names are `[a-z0-9-]` by the schema, but an id must never carry markup whatever the input. */
const anchor = (...parts: string[]) =>
  parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, "_")).join("--");

/** A variant's name, with its kernel in a kernel matrix: columns become the matrix. */
const variantLabel = (v: VariantResult) =>
  (v.kernel ? `${v.variant} @${v.kernel}` : v.variant) + (v.family ? ` (${v.family})` : "");

function tally(variants: VariantResult[]): string {
  const n = (k: VariantResult["verdict"]) => variants.filter((v) => v.verdict === k).length;
  const out = [`${n("pass")} passed`, `${n("fail") + n("error")} failed`, `${n("skip")} skipped`];
  return out.join(", ");
}

/** One table row: a label and its cells (already HTML), or numbers (escaped here). */
function tableRow(label: string, cells: string[], cls = ""): string {
  return `<tr${cls ? ` class="${cls}"` : ""}><th scope="row">${e(label)}</th>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
}
function numberRow(label: string, values: (number | string)[], cls = ""): string {
  return `<tr${cls ? ` class="${cls}"` : ""}><th scope="row">${e(label)}</th>${values.map((v) => `<td class="num">${e(v)}</td>`).join("")}</tr>`;
}

/**
 * The side-by-side table: the terminal's end-of-run table, one column per variant — or, in a
 * kernel matrix, one table per variant with one column per kernel (`variant` set), so the page
 * grows down with the variants rather than off its side with variants × kernels.
 */
function variantsTable(s: ScenarioResult, variant?: string): string {
  const cols = variant === undefined ? s.variants : s.variants.filter((v) => v.variant === variant);
  const heading = (v: VariantResult) => (variant === undefined ? variantLabel(v) : v.kernel!);
  const rows: string[] = [
    tableRow(
      "verdict",
      cols.map((v) => badge(v.verdict)),
    ),
  ];
  if (cols.some((v) => v.repeat && v.repeat.runs > 1))
    rows.push(
      tableRow(
        "runs agreed",
        cols.map((v) => (v.repeat ? `${v.repeat.agreed}/${v.repeat.runs}` : "-")),
      ),
    );
  rows.push(
    tableRow(
      "cause",
      cols.map((v) => e(v.causes.map((c) => c.cause).join(", ") || "-")),
    ),
  );
  rows.push(...clientRows(cols));
  const queues = cols.map(queueCells);
  if (queues.some((q) => q.length > 0))
    rows.push(
      tableRow(
        "accept queue (max of limit)",
        queues.map((q) => q.map(e).join("<br>") || "-"),
      ),
    );
  const counters = cols.map((v) =>
    notableCounters(v).map(
      (c) => `<span class="mono">${e(`${c.node} ${c.counter} ${signed(c.delta)}`)}</span>`,
    ),
  );
  rows.push(
    tableRow(
      "counters",
      counters.map((c) => c.join("<br>") || "-"),
    ),
  );
  rows.push(
    tableRow(
      "duration",
      cols.map((v) => e(seconds(v.durationMs))),
    ),
  );

  const corner = variant === undefined ? "" : e(variant);
  const head = `<tr><th>${corner}</th>${cols.map((v) => `<th scope="col"><a href="#${anchor(s.name, variantLabel(v))}">${e(heading(v))}</a></th>`).join("")}</tr>`;
  const attr = variant === undefined ? "" : ` data-variant="${e(variant)}"`;
  return `<table class="variants" data-scenario="${e(s.name)}"${attr}>\n<thead>${head}</thead>\n<tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/** Attempts, each outcome, and the latency percentiles. */
function clientRows(cols: VariantResult[]): string[] {
  const rows = [
    numberRow(
      "attempts",
      cols.map((v) => v.clients.attempts),
    ),
  ];
  const outcomes = [...new Set(cols.flatMap((v) => Object.keys(v.clients.outcomes)))].sort();
  for (const o of outcomes)
    rows.push(
      numberRow(
        o,
        cols.map((v) => v.clients.outcomes[o] ?? 0),
        "sub",
      ),
    );
  // A dual-stack variant: each family's attempts and outcomes on their own rows.
  if (cols.some((v) => v.clientsByFamily))
    for (const fam of ["ipv4", "ipv6"] as const) {
      const by = (v: VariantResult) => v.clientsByFamily?.[fam];
      rows.push(
        numberRow(
          `${fam} attempts`,
          cols.map((v) => by(v)?.attempts ?? "-"),
          "sub",
        ),
      );
      const famOutcomes = [...new Set(cols.flatMap((v) => Object.keys(by(v)?.outcomes ?? {})))];
      for (const o of famOutcomes.sort())
        rows.push(
          numberRow(
            `${fam} ${o}`,
            cols.map((v) => by(v)?.outcomes[o] ?? 0),
            "sub",
          ),
        );
    }
  const pct = (p: VariantResult["clients"]["connectMs"]) => (p ? `${p.p50} / ${p.p99}` : "-");
  rows.push(
    numberRow(
      "connect p50/p99 ms",
      cols.map((v) => pct(v.clients.connectMs)),
    ),
  );
  if (cols.some((v) => v.clients.replyMs))
    rows.push(
      numberRow(
        "reply p50/p99 ms",
        cols.map((v) => pct(v.clients.replyMs)),
      ),
    );
  return rows;
}

/** Each listening app of a variant: `node:port max of limit`. */
function queueCells(v: VariantResult): string[] {
  return Object.entries(v.nodes).flatMap(([node, rep]) =>
    rep.listen
      ? Object.entries(rep.listen.sendQ).map(
          ([port, limit]) =>
            `${node}:${port} ${rep.listen!.maxRecvQ[Number(port)] ?? 0} of ${limit}`,
        )
      : [],
  );
}

function causesBlock(v: VariantResult): string {
  if (v.causes.length === 0)
    return `<h4>Causes</h4><p class="muted">none named: the counters and clients look healthy</p>`;
  const items = v.causes.map((c) => {
    const numbers = Object.entries(c.numbers)
      .map(([k, n]) => `${k}=${n}`)
      .join(" · ");
    return `<li><b>${e(c.cause)}</b> at <code>${e(c.node)}</code>, because ${e(c.because)}${numbers ? `<br><span class="numbers">${e(numbers)}</span>` : ""}</li>`;
  });
  return `<h4>Causes</h4><ul class="causes">${items.join("")}</ul>`;
}

function expectationRows(list: VariantResult["expectations"]): string {
  return list
    .map(
      (x) =>
        `<tr class="${x.ok ? "ok" : "failed"}"><td>${x.ok ? "✓" : "✗"}</td><td><code>${e(x.path)}</code></td><td>${e(x.expected)}</td><td class="num">${e(x.actual === null ? "—" : x.actual)}</td><td><code>${e(x.source ?? "")}</code></td></tr>`,
    )
    .join("\n");
}

const EXPECT_HEAD =
  "<thead><tr><th></th><th>expectation</th><th>expected</th><th>actual</th><th>written at</th></tr></thead>";

function expectationsBlock(v: VariantResult): string {
  const failed = v.expectations.filter((x) => !x.ok);
  const parts: string[] = [];
  if (failed.length > 0)
    parts.push(
      `<h4>Failed expectations</h4><table class="failed-expectations">${EXPECT_HEAD}<tbody>${expectationRows(failed)}</tbody></table>`,
    );
  if (v.expectations.length > 0)
    parts.push(
      `<details><summary>All expectations (${v.expectations.length}, ${failed.length} failed)</summary><table class="expectations">${EXPECT_HEAD}<tbody>${expectationRows(v.expectations)}</tbody></table></details>`,
    );
  return parts.join("\n");
}

function listenBlock(v: VariantResult): string {
  const rows = Object.entries(v.nodes).flatMap(([node, rep]) => {
    if (!rep.listen) return [];
    const l = rep.listen;
    const ports = [
      ...new Set([...Object.keys(l.sendQ), ...Object.keys(l.maxRecvQ)].map(Number)),
    ].sort((a, b) => a - b);
    return ports.map((port) => {
      const final = l.final.find((f) => f.port === port);
      const max = l.maxRecvQ[port] ?? 0;
      const limit = l.sendQ[port];
      const full = limit !== undefined && max > limit;
      return `<tr${full ? ' class="failed"' : ""}><td><code>${e(node)}:${port}</code></td><td class="num">${max}</td><td class="num">${e(limit ?? "—")}</td><td class="num">${e(final ? final.recvQ : "—")}</td><td class="num">${l.maxSynRecv}</td></tr>`;
    });
  });
  if (rows.length === 0) return "";
  return `<h4>Listen queue</h4><table class="listen"><thead><tr><th>socket</th><th>max Recv-Q (maxRecvQ)</th><th>limit (sendQ)</th><th>final Recv-Q</th><th>max SYN_RECV</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function countersBlock(v: VariantResult): string {
  const rows = Object.entries(v.nodes).flatMap(([node, rep]) =>
    Object.entries(rep.counters).map(
      ([name, delta]) =>
        `<tr><td><code>${e(node)}</code></td><td><code>${e(name)}</code></td><td class="num">${e(signed(delta))}</td></tr>`,
    ),
  );
  if (rows.length === 0) return "";
  return `<details><summary>Every counter that moved (${rows.length})</summary><table class="counters"><thead><tr><th>node</th><th>counter</th><th>delta</th></tr></thead><tbody>${rows.join("")}</tbody></table></details>`;
}

/**
 * The reason, shortened when the failed-expectations table below says it in full: a failed
 * variant's reason repeats every expectation with its file:line, which would push the plot down.
 */
function shortReason(v: VariantResult): string {
  const failed = v.expectations.filter((x) => !x.ok);
  const flaky = v.repeat !== undefined && v.repeat.agreed < v.repeat.runs;
  if (v.verdict !== "fail" || failed.length === 0 || flaky) return v.reason;
  return `${failed.length} of ${v.expectations.length} expectations failed: ${failed.map((x) => x.path).join(", ")}`;
}

/** Counters and the accept queue over time, with the faults: when the run sampled them. */
function timelineBlock(s: ScenarioResult, v: VariantResult): string {
  const plot = timelinePlot(v.timeline, v.nodes, { variant: `${s.name}/${variantLabel(v)}` });
  return plot ? `<h4>Timeline</h4><figure>${plot}</figure>` : "";
}

function variantCard(s: ScenarioResult, v: VariantResult): string {
  const timing = [
    v.upMs !== undefined && `up ${seconds(v.upMs)}`,
    v.timelineMs !== undefined && `timeline ${seconds(v.timelineMs)}`,
    v.downMs !== undefined && `down ${seconds(v.downMs)}`,
  ].filter(Boolean);
  const repeat =
    v.repeat && v.repeat.runs > 1 ? ` · ${v.repeat.agreed} of ${v.repeat.runs} runs agreed` : "";
  const unchecked =
    v.unchecked.length > 0
      ? `<details><summary>Not checked (${v.unchecked.length})</summary><ul>${v.unchecked.map((u) => `<li>${e(u)}</li>`).join("")}</ul></details>`
      : "";
  return [
    `<article class="variant" id="${anchor(s.name, variantLabel(v))}" data-variant="${e(variantLabel(v))}" data-verdict="${v.verdict}">`,
    `<h3>${badge(v.verdict)} ${e(variantLabel(v))} <small>${e(seconds(v.durationMs))}${timing.length ? ` (${e(timing.join(", "))})` : ""}${e(repeat)}</small></h3>`,
    `<p class="reason">${e(shortReason(v))}</p>`,
    `<figure>${attemptPlot(v.attempts, { variant: `${s.name}/${variantLabel(v)}` })}</figure>`,
    timelineBlock(s, v),
    causesBlock(v),
    expectationsBlock(v),
    listenBlock(v),
    countersBlock(v),
    unchecked,
    "</article>",
  ]
    .filter((p) => p !== "")
    .join("\n");
}

function scenarioSection(s: ScenarioResult): string {
  return [
    `<section class="scenario" id="${anchor(s.name)}" data-scenario="${e(s.name)}">`,
    `<h2>${e(s.name)} <small>${e(s.file)}</small></h2>`,
    `<p class="summary">${e(s.summary.trim())}</p>`,
    ...(s.variants.some((v) => v.kernel !== undefined)
      ? [...new Set(s.variants.map((v) => v.variant))].map((name) => variantsTable(s, name))
      : [variantsTable(s)]),
    `<div class="cards">`,
    ...s.variants.map((v) => variantCard(s, v)),
    "</div>",
    "</section>",
  ].join("\n");
}

/** The whole page. Pure: the report in, a string out. */
export function htmlReport(report: RunReport): string {
  const all = report.scenarios.flatMap((s) => s.variants);
  const title = `tcprepro: ${report.scenarios.map((s) => s.name).join(", ") || "no scenarios"} (${tally(all)})`;
  const nav =
    report.scenarios.length > 1
      ? `<nav><ul>${report.scenarios.map((s) => `<li><a href="#${anchor(s.name)}">${e(s.name)}</a> ${s.variants.map((v) => badge(v.verdict)).join(" ")}</li>`).join("")}</ul></nav>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${e(`${report.tool.name} ${report.tool.version}`)}">
<title>${e(title)}</title>
<style>${HTML_STYLE}</style>
</head>
<body>
<header>
<h1>tcprepro report</h1>
<p class="meta">kernel <b>${e(report.kernel)}</b> · ${e(report.runtime)} · started ${e(report.startedAt)} · ${e(seconds(report.durationMs))} · ${e(`${report.tool.name} ${report.tool.version}`)}</p>
<p class="totals">${e(tally(all))}</p>
${nav}
</header>
<main>
${kernelDiffSection(report)}
${report.scenarios.map(scenarioSection).join("\n")}
</main>
</body>
</html>
`;
}
