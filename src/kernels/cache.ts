/**
 * The kernel cache: `~/.cache/tcprepro/kernels` (or `$TCPREPRO_CACHE`). One directory per
 * fetched kernel version holding the extracted packages, its initramfs and `kernel.json`; plus
 * `apt/` (the private apt configuration) and `busybox` (the initramfs's only program).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../util/errors.js";

/** A kernel ready to boot. */
export interface CachedKernel {
  /** What the user names it by: `6.1`, `7.2`, a name of `kernels add`, `custom` for --kernel-image. */
  version: string;
  /** `uname -r` inside the guest: `6.1.0-50-amd64`. */
  release: string;
  /** Debian package(s) it came from. */
  packages: string[];
  vmlinuz: string;
  /** Its uncompressed ELF with a PVH entry, booted instead when present (see vmlinux.ts). */
  vmlinux?: string;
  /** `…/lib/modules/<release>`, with modules.dep. */
  modules: string;
  initrd: string;
  /** INIT_HASH of the init script the initrd was built with (absent: an older one). */
  initHash?: string;
  /** A kernel of one's own (`kernels add`): the user's files it was made from, read only. */
  own?: { image: string; modules: string; added: string };
}

/** Versions we know where to find on Debian's mirror (suite per version). */
export const KNOWN_VERSIONS: Record<string, string> = {
  "5.10": "bullseye",
  "6.1": "bookworm",
  "6.12": "bookworm-backports",
  "7.2": "sid",
};

export function cacheDir(): string {
  return process.env.TCPREPRO_CACHE ?? join(homedir(), ".cache", "tcprepro", "kernels");
}

export function kernelDir(version: string): string {
  return join(cacheDir(), version);
}

export function busyboxPath(): string {
  return join(cacheDir(), "busybox");
}

export function readCached(version: string): CachedKernel | undefined {
  const file = join(kernelDir(version), "kernel.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as CachedKernel;
  } catch {
    return undefined;
  }
}

export function listCached(): CachedKernel[] {
  if (!existsSync(cacheDir())) return [];
  return readdirSync(cacheDir())
    .map((d) => readCached(d))
    .filter((k): k is CachedKernel => k !== undefined)
    .sort((a, b) => compareVersions(a.version, b.version));
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A version the user named must be one we know; the error lists those that are. */
export function checkVersion(version: string): void {
  if (!(version in KNOWN_VERSIONS))
    throw new UsageError(
      `kernel ${version} is not available: choose from ${Object.keys(KNOWN_VERSIONS).join(", ")} (Debian's generic amd64 kernels), or give --kernel-image`,
    );
}

/**
 * Removes a kernel's directory from the cache: only a kernel's (a Debian version, or one with a
 * kernel.json), never apt's lists or busybox. A kernel of one's own loses tcprepro's files
 * only: its module tree here is symlinks, which `rm` removes without following.
 */
export function removeCached(version: string): boolean {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version)) return false;
  if (!(version in KNOWN_VERSIONS) && !readCached(version)) return false;
  const dir = kernelDir(version);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}
