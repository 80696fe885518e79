import type { Command } from "commander";
import { assess, formatDoctor } from "../doctor/assess.js";
import { probe } from "../doctor/probe.js";
import type { DoctorFacts } from "../doctor/assess.js";
import { resolveKernel } from "../kernels/resolve.js";
import { VmRuntime } from "../vm/vm-runtime.js";

/** A VM kernel's inventory and netem, read inside a VM booted for the purpose. */
async function vmKernelFacts(version: string): Promise<Pick<DoctorFacts, "inventory" | "netem">> {
  const vm = new VmRuntime({ version });
  try {
    await vm.prepare((m) => process.stderr.write(`· ${m}\n`));
    const inventory = await vm.inventory();
    const netem = inventory.qdiscs.has("netem");
    return {
      inventory,
      netem: {
        status: netem ? "present" : "absent",
        how: `kernel ${version} (${inventory.release}) ${netem ? "has" : "lacks"} sch_netem in its modules`,
      },
    };
  } finally {
    await vm.close();
  }
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "what this machine has of what tcprepro and the catalog need: engine, images, privileges, kernel, sysctls, counters, netem, tools",
    )
    .argument("[paths...]", "the catalog: scenario files or directories", ["scenarios"])
    .option("--base <image>", "base image the node image is built from (as run --base)")
    .option("--json", "print the checks as JSON", false)
    .option(
      "--kernel <version>",
      "check a VM kernel (5.10, 6.1, 6.12, 7.2, or a name of `kernels add`) instead of this one",
    )
    .action(async (paths: string[], opts: { base?: string; json: boolean; kernel?: string }) => {
      if (opts.kernel) resolveKernel(opts.kernel);
      const facts = await probe({ paths, base: opts.base });
      if (opts.kernel) Object.assign(facts, await vmKernelFacts(opts.kernel));
      const report = assess(facts);
      process.stdout.write(
        opts.json ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report),
      );
      // Nothing is started or changed: exit 1 says "something is missing", not "something failed".
      process.exitCode = report.gaps === 0 ? 0 : 1;
    });
}
