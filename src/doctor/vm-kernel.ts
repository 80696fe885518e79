/** `doctor --kernel X`: the facts of a VM kernel, read inside a VM booted for the purpose. */
import type { DoctorFacts } from "./assess.js";
import { openKernelRuntime } from "../runtime/registry.js";
import { accelOutlook } from "../vm/accel.js";

/** What VMs will run under here (KVM or TCG), before any boots. */
export const vmAccelOutlook = accelOutlook;

/** A VM kernel's inventory and netem, read inside a VM booted for the purpose. */
export async function vmKernelFacts(
  version: string,
): Promise<Pick<DoctorFacts, "inventory" | "netem" | "vmAccel">> {
  const vm = await openKernelRuntime({ version }, {});
  try {
    await vm.prepare((m) => process.stderr.write(`· ${m}\n`));
    const inventory = await vm.inventory();
    const netem = inventory.qdiscs.has("netem");
    return {
      inventory,
      // The runtime's name carries the accelerator it booted under: `vm:6.1/tcg`.
      vmAccel: `kernel ${version} ran as ${vm.name}`,
      netem: {
        status: netem ? "present" : "absent",
        how: `kernel ${version} (${inventory.release}) ${netem ? "has" : "lacks"} sch_netem in its modules`,
      },
    };
  } finally {
    await vm.close();
  }
}
