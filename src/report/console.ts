/**
 * The terminal view: one progress line per event on stderr (plain, so it reads the same in CI
 * logs), and a per-scenario table with the variants side by side on stdout at the end.
 */
import { failureLines } from "./failure-lines.js";
import { NOTHING_CHECKED, type RunReport, type VariantResult } from "../verdict/result.js";
import type { RunEvent } from "./events.js";
import { notableCounters, signed } from "./notable.js";

type Formatters = {
  [K in RunEvent["kind"]]: (e: Extract<RunEvent, { kind: K }>) => string | undefined;
};

const VERDICT: Record<VariantResult["verdict"], string> = {
  pass: "PASS",
  fail: "FAIL",
  skip: "SKIP",
  error: "ERROR",
};

const formatters: Formatters = {
  prepare: (e) => `· ${e.message}`,
  "scenario.start": (e) => `▶ ${e.scenario} (${e.file}): ${e.variants.join(", ")}`,
  "variant.start": (e) => `  ${e.scenario}/${e.variant}: starting`,
  "topology.up": (e) =>
    `  ${e.scenario}/${e.variant}: topology up (${e.nodes} nodes, ${e.networks} networks) in ${e.ms} ms`,
  "traffic.start": (e) =>
    `  ${e.scenario}/${e.variant}: ${e.node} → ${e.target}: ${e.connections} connections`,
  "traffic.done": (e) =>
    `  ${e.scenario}/${e.variant}: ${e.node} done, ${e.attempts} attempts by t=${e.ms} ms`,
  "fault.applied": (e) => `  ${e.scenario}/${e.variant}: t=${e.atMs} ms ${e.action} → ${e.target}`,
  "topology.down": (e) => `  ${e.scenario}/${e.variant}: topology down in ${e.ms} ms`,
  // Steps are for logs and timing; the lines above already tell a person what happens.
  "variant.step": () => undefined,
  "variant.done": (e) =>
    `  ${e.scenario}/${e.result.variant}: ${VERDICT[e.result.verdict]} (${(e.result.durationMs / 1000).toFixed(1)} s) ${e.result.verdict === "pass" ? "" : e.result.reason}`,
  warning: (e) => `! ${e.message}`,
};

export function formatEvent(e: RunEvent): string | undefined {
  return (formatters[e.kind] as (e: RunEvent) => string | undefined)(e);
}

/**
 * Progress on stderr. On a terminal (and not in CI) one status line at the bottom is rewritten
 * in place with what is running and how far the run is; every event still prints as a plain
 * line above it, so a log reads the same either way. Elsewhere: plain lines only.
 */
export function consoleSink(stream: NodeJS.WriteStream = process.stderr): (e: RunEvent) => void {
  const live = stream.isTTY === true && !process.env.CI;
  const running = new Map<string, number>();
  let done = 0;
  let total = 0;
  const status = () => {
    if (!live || running.size === 0) return;
    const now = Date.now();
    const items = [...running].map(([k, t]) => `${k} ${((now - t) / 1000).toFixed(0)}s`).join(", ");
    const text = `… ${done}/${total} done; running: ${items}`;
    stream.write(`\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}\r`);
  };
  const timer = live ? setInterval(status, 1000) : undefined;
  timer?.unref();
  return (e) => {
    if (e.kind === "scenario.start") total += e.variants.length;
    if (e.kind === "variant.start") running.set(`${e.scenario}/${e.variant}`, Date.now());
    if (e.kind === "variant.done") {
      done++;
      for (const k of running.keys())
        if (k.startsWith(`${e.scenario}/${e.result.variant}`)) running.delete(k);
    }
    const line = formatEvent(e);
    if (live) stream.write("\x1b[2K");
    if (line !== undefined) stream.write(line + "\n");
    status();
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function movedCounters(v: VariantResult): string[] {
  return notableCounters(v).map((c) => `${c.node} ${c.counter} ${signed(c.delta)}`);
}

/** The end-of-run summary: per scenario, variants as columns. */
export function formatReport(report: RunReport): string {
  const parts: string[] = [];
  for (const s of report.scenarios) {
    const cols = s.variants;
    const rows: string[][] = [["", ...cols.map((v) => v.variant)]];
    rows.push([
      "verdict",
      ...cols.map((v) => VERDICT[v.verdict] + (v.nothingChecked ? " (nothing checked)" : "")),
    ]);
    if (cols.some((v) => v.repeat))
      rows.push([
        "runs agreed",
        ...cols.map((v) => (v.repeat ? `${v.repeat.agreed}/${v.repeat.runs}` : "-")),
      ]);
    if (cols.some((v) => v.family)) rows.push(["family", ...cols.map((v) => v.family ?? "ipv4")]);
    rows.push(["cause", ...cols.map((v) => v.causes.map((c) => c.cause).join(", ") || "-")]);
    rows.push(["attempts", ...cols.map((v) => String(v.clients.attempts))]);
    const outcomes = [...new Set(cols.flatMap((v) => Object.keys(v.clients.outcomes)))].sort();
    for (const o of outcomes)
      rows.push([`  ${o}`, ...cols.map((v) => String(v.clients.outcomes[o] ?? 0))]);
    // A dual-stack variant: each family's outcomes on their own rows.
    for (const fam of ["ipv4", "ipv6"] as const) {
      if (!cols.some((v) => v.clientsByFamily)) break;
      const by = (v: VariantResult) => v.clientsByFamily?.[fam];
      const famOutcomes = [...new Set(cols.flatMap((v) => Object.keys(by(v)?.outcomes ?? {})))];
      rows.push([`  ${fam} attempts`, ...cols.map((v) => String(by(v)?.attempts ?? "-"))]);
      for (const o of famOutcomes.sort())
        rows.push([`    ${o}`, ...cols.map((v) => String(by(v)?.outcomes[o] ?? 0))]);
    }
    rows.push([
      "connect p50/p99 ms",
      ...cols.map((v) =>
        v.clients.connectMs ? `${v.clients.connectMs.p50} / ${v.clients.connectMs.p99}` : "-",
      ),
    ]);
    const counters = cols.map(movedCounters);
    const depth = Math.max(0, ...counters.map((c) => c.length));
    for (let i = 0; i < depth; i++)
      rows.push([i === 0 ? "counters" : "", ...counters.map((c) => c[i] ?? "")]);
    parts.push(`${s.name} — ${s.file}\n${table(rows)}`);
    for (const v of cols) {
      if (v.nothingChecked) parts.push(`  ${v.variant}: ${NOTHING_CHECKED}`);
      if (v.verdict === "pass") continue;
      // Failed expectations and the evidence behind each named cause (per run when flaky):
      // what a reader needs to tell a race from a regression.
      parts.push(
        [
          `  ${v.variant}: ${VERDICT[v.verdict]}: ${v.reason}`,
          ...failureLines(v).map((l) => `    ${l}`),
        ].join("\n"),
      );
    }
  }
  const all = report.scenarios.flatMap((s) => s.variants);
  const count = (k: VariantResult["verdict"]) => all.filter((v) => v.verdict === k).length;
  const empty = all.filter((v) => v.nothingChecked).length;
  parts.push(
    `${count("pass")} passed, ${count("fail") + count("error")} failed, ${count("skip")} skipped${empty ? `, ${empty} checked nothing` : ""} (kernel ${report.kernel}, ${report.runtime}${familiesOf(all)}, ${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return parts.join("\n\n") + "\n";
}

/** `, ipv6` or `, ipv4 and dual` when any variant ran over something else than IPv4 alone. */
function familiesOf(all: VariantResult[]): string {
  const fams = [...new Set(all.map((v) => v.family ?? "ipv4"))];
  return fams.length === 1 && fams[0] === "ipv4" ? "" : `, ${fams.join(" and ")}`;
}
