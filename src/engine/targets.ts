/**
 * The targets of a run: which runtime on which kernel. `kernels: ["6.1", "7.2", "host"]`, a
 * user's kernel image, `runtime: "vm"` (on `kernel`, or the newest fetched), or a plain run on
 * this machine. Every name is checked here, before anything is fetched, booted or created
 * (bad input is exit 2); opening comes after.
 */
import { availableParallelism } from "node:os";
import { KNOWN_VERSIONS, listCached, readCached } from "../kernels/cache.js";
import { checkOwnFiles } from "../kernels/own.js";
import { resolveKernel as resolveNamedKernel } from "../kernels/resolve.js";
import type { Runtime } from "../runtime/runtime.js";
import {
  openHostRuntime,
  openKernelRuntime,
  runtimeEntry,
  type OpenOptions,
  type RuntimeEntry,
} from "../runtime/registry.js";
import { KernelUnavailableError, UsageError } from "../util/errors.js";
import type { KernelSpec } from "../vm/vm-runtime.js";
import { type AccelRequest, parseAccel } from "../vm/accel.js";

/** The label of this machine's kernel in a matrix. */
export const HOST = "host";

export interface TargetRequest {
  /** A registered runtime's name, `auto`, or a Runtime object. @default "auto" */
  runtime?: string | Runtime;
  /** With a runtime that boots a kernel (`vm`): the kernel. @default the newest fetched */
  kernel?: string;
  /** Run on each of these kernels: fetched versions (`6.1`, `7.2`) and `host`. */
  kernels?: string[];
  /** Also run on this kernel image (a VM), with `kernelModules`. */
  kernelImage?: string;
  /** The modules of `kernelImage` (…/lib/modules/<release>). */
  kernelModules?: string;
  /** The VMs' accelerator: `auto` (KVM if a probe shows it works here), `kvm`, `tcg`. */
  accel?: AccelRequest;
}

export interface TargetSpec {
  /** `6.1`, `7.2`, `custom`, `host`. */
  label: string;
  /** The kernel to boot; absent: this machine's. */
  kernel?: KernelSpec;
}

export interface Target {
  label: string;
  runtime: Runtime;
  /** The runtime was opened here (so it is closed here), not handed in by the caller. */
  owned: boolean;
}

/**
 * The targets named, all checked; `matrix` when the run names kernels (its report then names
 * each variant's kernel).
 */
export function targetSpecs(o: TargetRequest): { specs: TargetSpec[]; matrix: boolean } {
  if (o.kernelModules && !o.kernelImage)
    throw new UsageError("--kernel-modules goes with --kernel-image");
  if (o.kernelImage && !o.kernelModules)
    throw new UsageError(
      "--kernel-image needs --kernel-modules <dir>: the modules of that kernel (lib/modules/<release>)",
    );
  // The API's `accel` is checked as the flag is (the VM checks TCPREPRO_ACCEL when it opens).
  if (o.accel !== undefined) parseAccel(o.accel, "accel");
  const booting = typeof o.runtime === "string" && o.runtime !== "auto" && bootsKernel(o.runtime);
  if (typeof o.runtime === "string") runtimeEntryOrAuto(o.runtime);
  const labels = [...(o.kernels ?? []), ...(o.kernel ? [o.kernel] : [])];
  if (new Set(labels).size !== labels.length)
    throw new UsageError("--kernel: a kernel is named twice");
  const specs: TargetSpec[] = labels.map((label) =>
    label === HOST ? { label } : { label, kernel: resolveKernel(label, { fetched: booting }) },
  );
  if (o.kernelImage) {
    // The user's files are read, never written: checked here, indexed in the cache on boot.
    checkOwnFiles(o.kernelImage, o.kernelModules!, {
      image: "--kernel-image",
      modules: "--kernel-modules",
    });
    specs.push({ label: "custom", kernel: { image: o.kernelImage, modules: o.kernelModules! } });
  }
  if (specs.length === 0 && booting) {
    const newest = listCached()
      .filter((k) => k.version in KNOWN_VERSIONS)
      .pop();
    if (!newest)
      throw new KernelUnavailableError(
        `--runtime ${o.runtime as string}: no kernel fetched yet; run \`tcprepro kernels fetch 7.2\` (or name one with --kernel: ${Object.keys(KNOWN_VERSIONS).join(", ")})`,
      );
    specs.push({ label: newest.version, kernel: { version: newest.version } });
  }
  if (specs.length === 0) return { specs: [{ label: HOST }], matrix: false };
  return { specs, matrix: true };
}

/**
 * A kernel's name → what to boot. The one place a name is resolved (a fetched version today;
 * named user kernels plug in here). `fetched`: the kernel must already be in the cache — a run
 * that asked for a VM runs in one or fails saying so, never elsewhere.
 */
export function resolveKernel(name: string, o: { fetched: boolean }): KernelSpec {
  // Debian's versions and the names of `kernels add`: src/kernels/resolve.ts knows them all.
  resolveNamedKernel(name);
  if (o.fetched && !readCached(name)) {
    const have = listCached().map((k) => k.version);
    throw new KernelUnavailableError(
      `kernel ${name} is not fetched: run \`tcprepro kernels fetch ${name}\` first` +
        (have.length > 0 ? ` (fetched: ${have.join(", ")})` : " (none is fetched yet)"),
    );
  }
  return { version: name };
}

function runtimeEntryOrAuto(name: string): RuntimeEntry | undefined {
  return name === "auto" ? undefined : runtimeEntry(name);
}

function bootsKernel(name: string): boolean {
  return runtimeEntryOrAuto(name)?.bootsKernel ?? false;
}

/** Opens a target's runtime: the caller's own, a VM on its kernel, or one on this machine. */
export async function openTarget(
  spec: TargetSpec,
  o: TargetRequest & Omit<OpenOptions, "kernel">,
  say: (message: string) => void,
): Promise<Target> {
  if (typeof o.runtime === "object") {
    if (spec.kernel)
      throw new UsageError("kernels to boot need a registered runtime, not a Runtime object");
    return { label: spec.label, runtime: o.runtime, owned: false };
  }
  const options: OpenOptions = {
    pool: o.pool,
    pool6: o.pool6,
    base: o.base,
    accel: o.accel,
    cores: o.cores ?? availableParallelism(),
  };
  if (spec.kernel) {
    const runtime = await openKernelRuntime(spec.kernel, options, o.runtime);
    return { label: spec.label, runtime, owned: true };
  }
  // `host` in a matrix run with a booting runtime: whatever runs on this machine (auto).
  const name = !o.runtime || bootsKernel(o.runtime) ? "auto" : o.runtime;
  return { label: spec.label, runtime: await openHostRuntime(name, options, say), owned: true };
}
