/** `tcprepro run`: flags → the engine → the reporters. */
import type { Command } from "commander";
import { loadForRun, runEngine } from "../engine/run.js";
import { KNOWN_VERSIONS } from "../kernels/cache.js";
import { consoleSink } from "../report/console.js";
import { consoleReport, FILE_FORMATS, FILE_REPORTERS, writeReports } from "../report/reporters.js";
import { expandPaths } from "../engine/load.js";
import { exitCodeOf } from "../run/run.js";
import { anyKernel } from "../scenario/semantics.js";
import { collectSet, type SetFlag } from "../scenario/set-flag.js";
import { parseSweep, withoutSweepVariants, type Sweep } from "../scenario/sweep.js";
import { installSignalHandlers } from "../util/interrupts.js";
import { UsageError } from "../util/errors.js";
import { checkOutputs } from "../util/output.js";
import { FAMILY_OPTION, POOL6_OPTION, POOL_OPTION, RUNTIME_OPTION } from "./engine.js";
import { ACCEL_OPTION } from "../vm/accel.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`"${value}" is not a whole number from 1 to 64`);
  return n;
}

/** `--parallel auto` or a count. */
function parallelFlag(value: string): "auto" | number {
  return value === "auto" ? value : positiveInt(value);
}

/** `--kernel 6.1,7.2,host` → its names (checked by the engine). */
function kernelList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

interface RunFlags {
  variant?: string;
  json?: string;
  junit?: string;
  html?: string;
  pool?: string;
  pool6?: string;
  family?: "ipv4" | "ipv6";
  base?: string;
  parallel: "auto" | number;
  repeat: number;
  capture: boolean;
  captures: string;
  runtime: string;
  set?: SetFlag[];
  sweep?: Sweep;
  kernel?: string[];
  kernelImage?: string;
  kernelModules?: string;
  shard?: string;
  accel?: "auto" | "kvm" | "tcg";
}

/** The run's flags besides the reporters' (which come from their table): [flags, help, parse?, default?]. */
type Flag =
  | readonly [string, string]
  | readonly [string, string, (value: string, previous: never) => unknown, unknown?]
  | readonly [string, string, boolean | string | number];

const RUN_FLAGS: readonly Flag[] = [
  ["--variant <name>", "run only this variant (baseline, mitigated, …)"],
  [
    "--parallel <n|auto>",
    "variants run at once (each on its own networks); auto: as many as the cores take, by what each costs, longest first",
    parallelFlag,
    "auto",
  ],
  [
    "--repeat <n>",
    "run each variant n times; a verdict stands only if all n agree",
    positiveInt,
    1,
  ],
  ["--capture", "capture every node's packets (nodes with capture: true always are)", false],
  [
    "--captures <dir>",
    "where captures are kept: <dir>/<scenario>/<variant>/<node>.pcap",
    "captures",
  ],
  RUNTIME_OPTION,
  [
    "--set <path=value>",
    "add a variant with this change (repeatable: all together make one variant), expected healthy",
    collectSet,
  ],
  [
    "--sweep <path=v1,v2,…>",
    "add a variant per value (each as --set), and report the smallest value that made the failure go away",
    parseSweep,
  ],
  POOL_OPTION,
  POOL6_OPTION,
  FAMILY_OPTION,
  ["--base <image>", "base image for the node image (default: the offline debootstrap image)"],
  [
    "--kernel <list>",
    `run on these kernels: ${Object.keys(KNOWN_VERSIONS).join(", ")} (VMs), names of \`kernels add\`, host`,
    kernelList,
  ],
  ["--kernel-image <path>", "also run on this kernel image (a VM), with --kernel-modules"],
  ["--kernel-modules <dir>", "the modules of --kernel-image (…/lib/modules/<release>)"],
  ACCEL_OPTION,
  ["--shard <i/n>", "run only the i-th of n stable parts of (kernel, scenario, variant)"],
];

export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .description("run scenarios on real containers and give a verdict per variant")
    .argument("[paths...]", "scenario files, directories of *.yaml files, or catalog names");
  for (const format of FILE_FORMATS)
    command.option(`--${format} <file>`, FILE_REPORTERS[format].describe);
  for (const flag of RUN_FLAGS) (command.option as (...a: readonly unknown[]) => Command)(...flag);
  command.action(runAction);
}

/** Flags → the engine → the reporters. */
async function runAction(paths: string[], opts: RunFlags): Promise<void> {
  // Output paths are checked before anything runs: a report that cannot be written is known
  // now, not after the run.
  const files = expandPaths(paths);
  const captures =
    opts.capture ||
    loadForRun(files, opts.set ?? [], anyKernel, opts.sweep).some((s) =>
      s.variants.some((v) => Object.values(v.scenario.nodes).some((n) => n.capture)),
    );
  checkOutputs(
    FILE_FORMATS.map((f) => [`--${f}`, opts[f]]),
    captures ? [["--captures", opts.captures]] : [],
  );
  const emit = consoleSink();
  installSignalHandlers(emit);
  const { kernel: kernels, captures: capturesDir, ...rest } = opts;
  const report = await runEngine(files, { ...rest, kernels, capturesDir, onEvent: emit });
  writeReports(report, opts);
  process.stdout.write("\n" + consoleReport(report));
  // A swept value too small to fix the failure is a finding of the sweep, not a failed run.
  process.exitCode = exitCodeOf(report.sweeps ? withoutSweepVariants(report) : report);
}
