import type { Command } from "commander";
import { consoleSink, formatReport } from "../report/console.js";
import { htmlReport } from "../report/html.js";
import { junitXml } from "../report/junit.js";
import { anyKernel, type KernelFacts } from "../scenario/semantics.js";
import { collectSet, withSetVariant, type SetFlag } from "../scenario/set-flag.js";
import { installSignalHandlers } from "../util/interrupts.js";
import { exitCodeOf, expandPaths, loadAll } from "../run/run.js";
import { runLoaded } from "../api/run.js";
import { UsageError } from "../util/errors.js";
import { checkOutputs, writeFileAtomic } from "../util/output.js";
import { openRuntime, parseRuntimeName, POOL_OPTION, type RuntimeName } from "./engine.js";
import { kernelLabels } from "./kernel-targets.js";
import { runKernelMatrix } from "./run-matrix.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`"${value}" is not a whole number from 1 to 64`);
  return n;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run scenarios on real containers and give a verdict per variant")
    .argument("<paths...>", "scenario files or directories of *.yaml files")
    .option("--variant <name>", "run only this variant (baseline, mitigated, …)")
    .option("--json <file>", "write the JSON report to this file")
    .option("--junit <file>", "write JUnit XML (one testcase per variant) to this file")
    .option(
      "--html <file>",
      "write a self-contained HTML report (attempt plots, causes, tables) to this file",
    )
    .option("--parallel <n>", "variants run at once (each on its own networks)", positiveInt, 1)
    .option(
      "--repeat <n>",
      "run each variant n times; a verdict stands only if all n agree",
      positiveInt,
      1,
    )
    .option(
      "--capture",
      "capture every node's packets (nodes with capture: true always are)",
      false,
    )
    .option(
      "--captures <dir>",
      "where captures are kept: <dir>/<scenario>/<variant>/<node>.pcap",
      "captures",
    )
    .option(
      "--runtime <name>",
      "docker, netns, vm, or auto: docker when an engine answers, else netns as root",
      parseRuntimeName,
      "auto",
    )
    .option(
      "--set <path=value>",
      "add a variant with this change (repeatable: all together make one variant), expected healthy",
      collectSet,
    )
    .option(...POOL_OPTION)
    .option(
      "--base <image>",
      "base image for the node image (default: the offline debootstrap image)",
    )
    .option(
      "--kernel <list>",
      "run on these kernels: 5.10, 6.1, 6.12, 7.2 (VMs), names of `kernels add`, host",
    )
    .option("--kernel-image <path>", "also run on this kernel image (a VM), with --kernel-modules")
    .option("--kernel-modules <dir>", "the modules of --kernel-image (…/lib/modules/<release>)")
    .option("--shard <i/n>", "run only the i-th of n stable parts of (kernel, scenario, variant)")
    .action(
      async (
        paths: string[],
        opts: {
          variant?: string;
          json?: string;
          junit?: string;
          html?: string;
          pool?: string;
          base?: string;
          parallel: number;
          repeat: number;
          capture: boolean;
          captures: string;
          runtime: RuntimeName;
          set?: SetFlag[];
          kernel?: string;
          kernelImage?: string;
          kernelModules?: string;
          shard?: string;
        },
      ) => {
        // Validate everything before touching the engine: bad input creates nothing. Then once
        // more against the kernel the nodes will run on, which only the runtime knows.
        const files = expandPaths(paths);
        const load = (kernel: KernelFacts) =>
          loadAll(files, kernel).map((s) => withSetVariant(s, opts.set ?? [], kernel));
        const captures =
          opts.capture ||
          load(anyKernel).some((s) =>
            s.variants.some((v) => Object.values(v.scenario.nodes).some((n) => n.capture)),
          );
        checkOutputs(
          [
            ["--json", opts.json],
            ["--junit", opts.junit],
            ["--html", opts.html],
          ],
          captures ? [["--captures", opts.captures]] : [],
        );
        const labels = kernelLabels(opts, opts.runtime);
        if (labels || opts.shard) {
          await runKernelMatrix(load, labels ?? ["host"], opts);
          return;
        }
        const emit = consoleSink();
        installSignalHandlers(emit);
        const runtime = await openRuntime(opts, (message) => emit({ kind: "prepare", message }));
        const scenarios = load(await runtime.inventory());
        const report = await runLoaded(scenarios, {
          ...opts,
          runtime,
          capturesDir: opts.captures,
          onEvent: emit,
        });
        if (opts.json) writeFileAtomic(opts.json, JSON.stringify(report, null, 2) + "\n");
        if (opts.junit) writeFileAtomic(opts.junit, junitXml(report));
        if (opts.html) writeFileAtomic(opts.html, htmlReport(report));
        process.stdout.write("\n" + formatReport(report));
        process.exitCode = exitCodeOf(report);
      },
    );
}
