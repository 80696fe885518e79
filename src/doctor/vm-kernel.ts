/** `doctor --kernel X`: the facts of a VM kernel, read inside a VM booted for the purpose. */
import type { DoctorFacts } from "./assess.js";
import { openKernelRuntime } from "../runtime/registry.js";

export /** A VM kernel's inventory and netem, read inside a VM booted for the purpose. */
async function vmKernelFacts(version: string): Promise<Pick<DoctorFacts, "inventory" | "netem">> {
  const vm = await openKernelRuntime({ version }, {});
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
