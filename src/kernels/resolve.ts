/**
 * A kernel's name → the kernel: the one place that knows what `--kernel 4.11,6.1,host`,
 * `doctor --kernel NAME`, shards and the API mean by a VM kernel's name. Debian's versions
 * (fetched on first use) and the names of `kernels add` (kernels of one's own) resolve here.
 */
import { existsSync } from "node:fs";
import { UsageError } from "../util/errors.js";
import { Apt } from "./apt.js";
import { type CachedKernel, cacheDir, KNOWN_VERSIONS, readCached } from "./cache.js";
import { currentInitramfs, ensureBusybox, ensureQemu, fetchKernel } from "./fetch.js";
import { checkBootImage } from "./image.js";
import { listOwn } from "./own.js";

export interface ResolvedKernel {
  name: string;
  /** `debian`: a version of Debian's mirror; `own`: added with `kernels add`. */
  source: "debian" | "own";
  /** The image QEMU boots; undefined for a Debian kernel not fetched yet. */
  image?: string;
  /** The module tree the guest uses (in the cache); undefined until fetched. */
  modulesDir?: string;
  /** `uname -r`; undefined for a Debian kernel not fetched yet. */
  release?: string;
  /** Where it came from, for people: Debian's suite and packages, or the user's files. */
  origin: string;
  /** The cache's record, when it is there. */
  cached?: CachedKernel;
}

/** Every name `--kernel` takes besides `host`, for messages. */
export function kernelNames(): string[] {
  return [...Object.keys(KNOWN_VERSIONS), ...listOwn().map((k) => k.version)];
}

/**
 * Resolves a VM kernel's name, or throws a UsageError (exit 2) naming those that exist. Reads
 * the cache only: nothing is fetched or written, so every name of a run is checked first.
 */
export function resolveKernel(name: string): ResolvedKernel {
  const cached = readCached(name);
  if (name in KNOWN_VERSIONS) {
    return {
      name,
      source: "debian",
      image: cached ? (cached.vmlinux ?? cached.vmlinuz) : undefined,
      modulesDir: cached?.modules,
      release: cached?.release,
      origin: cached
        ? `Debian ${KNOWN_VERSIONS[name]}: ${cached.packages.join(", ")}`
        : `Debian ${KNOWN_VERSIONS[name]} (fetched on first use)`,
      cached,
    };
  }
  if (cached?.own) {
    // The user's image may have moved or been replaced since `kernels add`.
    if (!existsSync(cached.own.image))
      throw new UsageError(
        `kernel ${name}: its image ${cached.own.image} is gone: \`tcprepro kernels add ${name} --image … --modules …\` again, or \`kernels rm ${name}\``,
      );
    checkBootImage(cached.own.image, `kernel ${name}: ${cached.own.image}`);
    return {
      name,
      source: "own",
      image: cached.own.image,
      modulesDir: cached.modules,
      release: cached.release,
      origin: `${cached.own.image} (modules ${cached.own.modules})`,
      cached,
    };
  }
  const own = listOwn().map((k) => k.version);
  throw new UsageError(
    `kernel ${name} is not available: choose from ${Object.keys(KNOWN_VERSIONS).join(", ")} (Debian's generic amd64 kernels)${own.length ? `, ${own.join(", ")} (added with \`kernels add\`)` : ""}, or add your own: \`tcprepro kernels add ${name} --image BZIMAGE --modules DIR\``,
  );
}

/** The kernel of a name, ready to boot: Debian's fetched on first use, one's own as added. */
export async function prepareKernel(
  name: string,
  progress: (message: string) => void,
): Promise<CachedKernel> {
  const k = resolveKernel(name);
  if (k.source === "debian") return fetchKernel(name, progress);
  const apt = new Apt(cacheDir(), progress);
  await ensureQemu(apt);
  await ensureBusybox(apt);
  return currentInitramfs(k.cached!, progress);
}
