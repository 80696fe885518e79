/**
 * `npm run stress [-- --repeat N] [-- PATHS…]`: are the verdicts the same on a busy machine?
 *
 * Runs the catalog with `--repeat N` at `--parallel auto` (the default; `--parallel N` to choose) on one runtime (docker by default; VMs with
 * `--kernel 6.1,7.2`) while the same catalog (or `--load-paths`) runs, over and over, on the
 * other runtime (netns): the second run is the load.
 * Reports every variant whose runs disagreed, or that did not pass or skip, with what failed,
 * and exits 1 if there was any. Both runs are ordinary `tcprepro run` processes, so whatever
 * they start they also remove; the load loop is bounded by the main run and by MAX_LOAD_RUNS.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { failureLines } from "../src/report/failure-lines.js";
import type { RunReport } from "../src/verdict/result.js";

const MAX_LOAD_RUNS = 50;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeat: { type: "string", default: "4" },
    // The run's default since issue 24: the verdicts must hold at it.
    parallel: { type: "string", default: "auto" },
    runtime: { type: "string", default: "docker" },
    load: { type: "string", default: "netns" },
    kernel: { type: "string" },
    "load-paths": { type: "string" },
  },
});
const paths = positionals.length > 0 ? positionals : ["scenarios/"];
// Scenarios that need a whole kernel SKIP on netns: give the load something else to run.
const loadPaths = values["load-paths"]?.split(",") ?? paths;
const target = values.kernel ? ["--kernel", values.kernel] : ["--runtime", values.runtime!];
const label = values.kernel ? `kernels ${values.kernel}` : values.runtime!;
const dir = mkdtempSync(join(tmpdir(), "tcprepro-stress-"));
const say = (m: string) => process.stderr.write(`· ${m}\n`);

function tcprepro(args: string[], log: boolean): { done: Promise<number | null>; kill(): void } {
  const child = spawn(process.execPath, ["bin/tcprepro.js", ...args], {
    stdio: ["ignore", "ignore", log ? "inherit" : "ignore"],
  });
  return {
    done: new Promise((resolve) => child.on("close", (code) => resolve(code))),
    kill: () => child.kill("SIGINT"),
  };
}

function disagreements(report: RunReport, label: string): string[] {
  const out: string[] = [];
  for (const s of report.scenarios)
    for (const v of s.variants) {
      const flaky = v.repeat && v.repeat.agreed < v.repeat.runs;
      if (!flaky && (v.verdict === "pass" || v.verdict === "skip")) continue;
      out.push(`${label} ${s.name}/${v.variant}: ${v.verdict.toUpperCase()}: ${v.reason}`);
      out.push(...failureLines(v).map((l) => `    ${l}`));
    }
  return out;
}

async function main(): Promise<number> {
  const mainJson = join(dir, "main.json");
  const started = performance.now();
  say(
    `${label}: ${paths.join(" ")} --repeat ${values.repeat} --parallel ${values.parallel}, ` +
      `with ${loadPaths.join(" ")} on ${values.load} as load`,
  );
  const main = tcprepro(
    [
      "run",
      ...paths,
      ...target,
      "--repeat",
      values.repeat!,
      "--parallel",
      values.parallel!,
      "--json",
      mainJson,
    ],
    true,
  );
  let finished = false;
  const loadReports: string[] = [];
  let current: ReturnType<typeof tcprepro> | undefined;
  const load = (async () => {
    for (let i = 0; i < MAX_LOAD_RUNS && !finished; i++) {
      const file = join(dir, `load-${i}.json`);
      current = tcprepro(
        [
          "run",
          ...loadPaths,
          "--runtime",
          values.load!,
          "--parallel",
          values.parallel!,
          "--json",
          file,
        ],
        false,
      );
      await current.done;
      // The run interrupted when the main run ended tore down mid-variant: not evidence.
      if (!finished) loadReports.push(file);
    }
  })();
  await main.done;
  finished = true;
  current?.kill();
  await load;

  const lines: string[] = [];
  const report = JSON.parse(readFileSync(mainJson, "utf8")) as RunReport;
  const runs = report.scenarios
    .flatMap((s) => s.variants)
    .reduce((n, v) => n + (v.repeat?.runs ?? 1), 0);
  lines.push(...disagreements(report, label));
  let loadRuns = 0;
  for (const file of loadReports) {
    let r: RunReport;
    try {
      r = JSON.parse(readFileSync(file, "utf8")) as RunReport;
    } catch {
      continue; // a load run that wrote no report
    }
    loadRuns += r.scenarios.flatMap((s) => s.variants).length;
    lines.push(...disagreements(r, values.load!));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `\nstress: ${runs} runs on ${label} (--repeat ${values.repeat}), ` +
      `${loadRuns} variant runs on ${values.load} alongside, ${seconds} s\n` +
      (lines.length === 0
        ? "0 disagreements, 0 failures\n"
        : `${lines.filter((l) => !l.startsWith(" ")).length} variant(s) disagreed or failed:\n${lines.join("\n")}\n`),
  );
  rmSync(dir, { recursive: true, force: true });
  return lines.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stress: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
