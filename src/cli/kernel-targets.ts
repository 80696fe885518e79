/**
 * `--kernel 6.1,7.2,host`, `--kernel-image`, `--runtime vm`: which kernels a run goes to. All
 * names are checked before anything is fetched or booted (a bad one is exit 2).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kernelDir, listCached, KNOWN_VERSIONS } from "../kernels/cache.js";
import { checkOwnFiles } from "../kernels/own.js";
import { resolveKernel } from "../kernels/resolve.js";
import type { KernelTarget } from "../run/matrix.js";
import { hostKernelFacts } from "../runtime/shared/host-inventory.js";
import type { KernelFacts } from "../scenario/semantics.js";
import { UsageError } from "../util/errors.js";
import { VmRuntime } from "../vm/vm-runtime.js";
import { openRuntime, type EngineOptions } from "./engine.js";

export interface KernelFlags {
  kernel?: string;
  kernelImage?: string;
  kernelModules?: string;
}

/** The kernels named, or undefined for a plain run on today's runtime. */
export function kernelLabels(
  flags: KernelFlags,
  runtime: string | undefined,
): string[] | undefined {
  if (flags.kernelModules && !flags.kernelImage)
    throw new UsageError("--kernel-modules goes with --kernel-image");
  if (flags.kernelImage && !flags.kernelModules)
    throw new UsageError(
      "--kernel-image needs --kernel-modules <dir>: the modules of that kernel (lib/modules/<release>)",
    );
  const labels = flags.kernel
    ? flags.kernel
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  for (const l of labels) if (l !== "host") resolveKernel(l);
  if (new Set(labels).size !== labels.length)
    throw new UsageError("--kernel: a kernel is named twice");
  if (flags.kernelImage) {
    checkOwnFiles(flags.kernelImage, flags.kernelModules!, {
      image: "--kernel-image",
      modules: "--kernel-modules",
    });
    labels.push("custom");
  }
  if (labels.length === 0 && runtime === "vm") {
    const newest = listCached()
      .filter((k) => k.version in KNOWN_VERSIONS)
      .pop();
    if (!newest)
      throw new UsageError(
        `--runtime vm: no kernel fetched yet; name one with --kernel (${Object.keys(KNOWN_VERSIONS).join(", ")}) or run \`tcprepro kernels fetch 7.2\``,
      );
    labels.push(newest.version);
  }
  return labels.length > 0 ? labels : undefined;
}

export async function kernelTargets(
  labels: string[],
  flags: KernelFlags,
  engine: EngineOptions,
  say: (message: string) => void,
): Promise<KernelTarget[]> {
  const targets: KernelTarget[] = [];
  for (const label of labels) {
    if (label === "host") {
      const runtime = await openRuntime(engine, say); // `vm` means auto for the host
      targets.push({ label, runtime });
    } else if (label === "custom") {
      const runtime = new VmRuntime(
        { image: flags.kernelImage!, modules: flags.kernelModules! },
        { pool: engine.pool },
      );
      targets.push({ label, runtime });
    } else {
      targets.push({ label, runtime: new VmRuntime({ version: label }, { pool: engine.pool }) });
    }
  }
  return targets;
}

/**
 * Scenario validation for a matrix: a sysctl is a typo only if no kernel of the run has it. A
 * VM kernel's names are known once it has booted (its inventory is kept in the cache); until
 * then nothing is rejected for it, and the run's own inventory SKIPs what it lacks.
 */
export function matrixFacts(labels: string[]): KernelFacts {
  const lists = labels
    .filter((l) => l !== "host")
    .map((l) => {
      const file = join(kernelDir(l), "sysctls.txt");
      return existsSync(file) ? new Set(readFileSync(file, "utf8").split("\n")) : undefined;
    });
  return {
    sysctlExists: (name) =>
      hostKernelFacts.sysctlExists(name) || lists.some((set) => set === undefined || set.has(name)),
  };
}
