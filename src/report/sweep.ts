/**
 * The `--sweep` section of the reports: per scenario, a table of the values with the clients
 * that failed and the cause's counter, a bar plot of the failure against the value, and the
 * threshold. Console text, and an HTML section (an inline SVG) put before the report's </body>.
 */
import type { SweepSummary } from "../verdict/result.js";
import { htmlEscape } from "./html-escape.js";

const text = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

function thresholdLine(s: SweepSummary): string {
  return s.threshold !== undefined
    ? `smallest value that made the failure go away at this load: ${s.path}=${text(s.threshold)}`
    : `no value made the failure go away at this load (every larger value must run healthy too)`;
}

/** ```
 * sweep nodes.server.app.backlog on accept-queue-overflow (cause accept-queue-overflow)
 *   value  verdict  failed        TcpExtListenOverflows
 *   16     FAIL     83/100 ██████ 120
 *   …
 *   smallest value that made the failure go away at this load: nodes.server.app.backlog=256
 * ``` */
export function formatSweeps(sweeps: readonly SweepSummary[]): string {
  const lines: string[] = [];
  for (const s of sweeps) {
    const at = s.kernel ? ` on kernel ${s.kernel}` : "";
    lines.push("", `sweep ${s.path} on ${s.scenario}${at} (cause ${s.cause})`);
    const width = Math.max(5, ...s.points.map((p) => text(p.value).length));
    const most = Math.max(1, ...s.points.map((p) => p.attempts));
    lines.push(
      `  ${"value".padEnd(width)}  verdict  ${"failed".padEnd(9)} ${"".padEnd(20)} ${s.counter ?? ""}`,
    );
    for (const p of s.points) {
      const bar = "█".repeat(Math.round((20 * p.failed) / most));
      lines.push(
        `  ${text(p.value).padEnd(width)}  ${p.verdict.toUpperCase().padEnd(7)}  ` +
          `${`${p.failed}/${p.attempts}`.padEnd(9)} ${bar.padEnd(20)} ${p.counter ?? ""}`,
      );
    }
    lines.push(`  ${thresholdLine(s)}`);
  }
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}

/** One SVG bar chart: clients failed per value (bars), the threshold's bar outlined. */
function svgPlot(s: SweepSummary): string {
  const W = 60;
  const H = 120;
  const most = Math.max(1, ...s.points.map((p) => p.attempts));
  const bars = s.points.map((p, i) => {
    const h = Math.round(((H - 30) * p.failed) / most);
    const x = 10 + i * W;
    const at = p.value === s.threshold;
    return (
      `<rect x="${x}" y="${H - 20 - h}" width="${W - 14}" height="${h}" fill="${p.healthy ? "#4a4" : "#c44"}"` +
      `${at ? ' stroke="#000" stroke-width="2"' : ""}><title>${htmlEscape(`${text(p.value)}: ${p.failed} of ${p.attempts} failed`)}</title></rect>` +
      `<text x="${x + (W - 14) / 2}" y="${H - 5}" text-anchor="middle" font-size="11">${htmlEscape(text(p.value))}</text>` +
      `<text x="${x + (W - 14) / 2}" y="${H - 24 - h}" text-anchor="middle" font-size="10">${p.failed}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${20 + s.points.length * W}" height="${H}" role="img" aria-label="clients failed per value">${bars.join("")}</svg>`;
}

export function sweepsHtml(sweeps: readonly SweepSummary[]): string {
  if (sweeps.length === 0) return "";
  const parts = sweeps.map((s) => {
    const rows = s.points
      .map(
        (p) =>
          `<tr><td>${htmlEscape(text(p.value))}</td><td>${htmlEscape(p.verdict)}</td>` +
          `<td>${p.failed} of ${p.attempts}</td><td>${p.counter ?? ""}</td></tr>`,
      )
      .join("");
    return (
      `<h3>sweep ${htmlEscape(s.path)} on ${htmlEscape(s.scenario)}${s.kernel ? ` (kernel ${htmlEscape(s.kernel)})` : ""}</h3>` +
      `<p class="sweep-threshold">${htmlEscape(thresholdLine(s))}</p>${svgPlot(s)}` +
      `<table><tr><th>value</th><th>verdict</th><th>clients failed</th><th>${htmlEscape(s.counter ?? "")}</th></tr>${rows}</table>`
    );
  });
  return `<section id="sweep"><h2>Sweep: the failure against the value</h2>${parts.join("")}</section>`;
}

/** The report's HTML with the sweep section before </body>. */
export function withSweepsHtml(html: string, sweeps: readonly SweepSummary[]): string {
  const section = sweepsHtml(sweeps);
  if (!section) return html;
  const at = html.lastIndexOf("</body>");
  return at < 0 ? html + section : html.slice(0, at) + section + html.slice(at);
}
