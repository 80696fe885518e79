import type { Command } from "commander";
import { assess, formatDoctor } from "../doctor/assess.js";
import { probe } from "../doctor/probe.js";
import { resolveKernel } from "../kernels/resolve.js";
import { vmAccelOutlook, vmKernelFacts } from "../doctor/vm-kernel.js";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "what this machine has of what tcprepro and the catalog need: engine, images, privileges, kernel, sysctls, counters, netem, tools",
    )
    .argument("[paths...]", "scenario files, directories or catalog names (default: the catalog)")
    .option("--base <image>", "base image the node image is built from (as run --base)")
    .option("--json", "print the checks as JSON", false)
    .option(
      "--kernel <version>",
      "check a VM kernel (5.10, 6.1, 6.12, 7.2, or a name of `kernels add`) instead of this one",
    )
    .action(async (paths: string[], opts: { base?: string; json: boolean; kernel?: string }) => {
      if (opts.kernel) resolveKernel(opts.kernel);
      const facts = await probe({ paths, base: opts.base });
      facts.vmAccel = vmAccelOutlook();
      if (opts.kernel) Object.assign(facts, await vmKernelFacts(opts.kernel));
      const report = assess(facts);
      process.stdout.write(
        opts.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report),
      );
      // Nothing is started or changed: exit 1 says "something is missing", not "something failed".
      process.exitCode = report.gaps === 0 ? 0 : 1;
    });
}
