/** `tcprepro run --kernel …`: the same scenarios on several kernels, one report and table. */
import { consoleSink } from "../report/console.js";
import { htmlReport } from "../report/html.js";
import { junitXml } from "../report/junit.js";
import { formatKernelDifferences, formatMatrix } from "../report/matrix-table.js";
import { parseShard, runMatrix } from "../run/matrix.js";
import { exitCodeOf } from "../run/run.js";
import type { LoadedScenario } from "../scenario/load.js";
import type { KernelFacts } from "../scenario/semantics.js";
import { writeFileAtomic } from "../util/output.js";
import { installSignalHandlers } from "../util/interrupts.js";
import type { EngineOptions } from "./engine.js";
import { kernelTargets, matrixFacts, type KernelFlags } from "./kernel-targets.js";

export interface MatrixFlags extends KernelFlags, EngineOptions {
  variant?: string;
  json?: string;
  junit?: string;
  html?: string;
  parallel: number;
  repeat: number;
  capture: boolean;
  captures: string;
  shard?: string;
}

/** `load` reads the scenario files (with any --set variant) against the kernels' facts. */
export async function runKernelMatrix(
  load: (facts: KernelFacts) => LoadedScenario[],
  labels: string[],
  opts: MatrixFlags,
): Promise<void> {
  // Everything is checked before a kernel is fetched or a VM booted.
  const shard = opts.shard ? parseShard(opts.shard) : undefined;
  const scenarios = load(matrixFacts(labels));
  const emit = consoleSink();
  installSignalHandlers(emit);
  const targets = await kernelTargets(labels, opts, opts, (message) =>
    emit({ kind: "prepare", message }),
  );
  const report = await runMatrix(scenarios, targets, {
    emit,
    variant: opts.variant,
    parallel: opts.parallel,
    repeat: opts.repeat,
    captureAll: opts.capture,
    capturesDir: opts.captures,
    shard,
  });
  if (opts.json) writeFileAtomic(opts.json, JSON.stringify(report, null, 2) + "\n");
  if (opts.junit) writeFileAtomic(opts.junit, junitXml(report));
  if (opts.html) writeFileAtomic(opts.html, htmlReport(report));
  process.stdout.write("\n" + formatMatrix(report));
  if (labels.length > 1) process.stdout.write("\n" + formatKernelDifferences(report));
  process.exitCode = exitCodeOf(report);
}
