import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { consoleSink, formatReport } from "../report/console.js";
import { htmlReport } from "../report/html.js";
import { junitXml } from "../report/junit.js";
import { hostKernelFacts } from "../scenario/semantics.js";
import { installSignalHandlers } from "../util/interrupts.js";
import { hostInventory } from "../run/kernel.js";
import { exitCodeOf, expandPaths, loadAll, runAll } from "../run/run.js";
import { UsageError } from "../util/errors.js";
import { openRuntime, parseRuntimeName, type RuntimeName } from "./engine.js";
import { runKernelMatrix } from "./run-matrix.js";
import { kernelLabels } from "./kernel-targets.js";

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
    .option("--pool <cidr>", "address pool for the networks", "198.18.0.0/15")
    .option(
      "--base <image>",
      "base image for the node image (default: the offline debootstrap image)",
    )
    .option("--kernel <list>", "run on these kernels: 5.10, 6.1, 6.12, 7.2 (VMs), host")
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
          pool: string;
          base?: string;
          parallel: number;
          repeat: number;
          capture: boolean;
          captures: string;
          runtime: RuntimeName;
          kernel?: string;
          kernelImage?: string;
          kernelModules?: string;
          shard?: string;
        },
      ) => {
        const labels = kernelLabels(opts, opts.runtime);
        if (labels || opts.shard) {
          await runKernelMatrix(paths, labels ?? ["host"], opts);
          return;
        }
        // Validate everything before touching the engine: bad input creates nothing.
        const scenarios = loadAll(expandPaths(paths), hostKernelFacts);
        const emit = consoleSink();
        installSignalHandlers(emit);
        const runtime = await openRuntime(opts, (message) => emit({ kind: "prepare", message }));
        await runtime.prepare((message) => emit({ kind: "prepare", message }));
        const kernel = hostInventory(await runtime.kernel());
        const report = await runAll(scenarios, {
          runtime,
          kernel,
          emit,
          variant: opts.variant,
          parallel: opts.parallel,
          repeat: opts.repeat,
          captureAll: opts.capture,
          capturesDir: opts.captures,
        });
        if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + "\n");
        if (opts.junit) writeFileSync(opts.junit, junitXml(report));
        if (opts.html) writeFileSync(opts.html, htmlReport(report));
        process.stdout.write("\n" + formatReport(report));
        process.exitCode = exitCodeOf(report);
      },
    );
}
