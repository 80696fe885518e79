/**
 * `tcprepro kernels fetch`: Debian's generic amd64 kernel of a version, downloaded and extracted
 * (never installed) into the cache, its modules indexed, and an initramfs built for it. QEMU 10
 * comes from bookworm-backports (QEMU 7.2 oopses 6.12 guests), busybox from busybox-static.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  exitCodeFor,
  KernelUnavailableError,
  RuntimeUnavailableError,
  UsageError,
} from "../util/errors.js";
import { Apt } from "./apt.js";
import {
  busyboxPath,
  type CachedKernel,
  cacheDir,
  checkVersion,
  kernelDir,
  readCached,
} from "./cache.js";
import { buildInitramfs, INIT_HASH } from "./initramfs.js";
import { checkOwnFiles, prepareOwn } from "./own.js";
import { withVmlinux } from "./vmlinux.js";

export const QEMU = "qemu-system-x86_64";

function sh(argv: string[], what: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(`${what} failed: ${r.error?.message ?? r.stderr.trim()}`);
  return r.stdout;
}

/** QEMU's major version on PATH, or undefined when it is missing. */
export function qemuMajor(): number | undefined {
  const r = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return Number(/version (\d+)/.exec(r.stdout)?.[1] ?? 0);
}

/** QEMU ≥ 10 on PATH; installed from bookworm-backports through the private apt lists if not. */
export async function ensureQemu(apt: Apt): Promise<void> {
  const major = qemuMajor();
  if (major !== undefined && major >= 10) return;
  if (process.getuid?.() !== 0)
    throw new RuntimeUnavailableError(
      `QEMU 10 is needed (found ${major ?? "none"}): as root, \`tcprepro kernels fetch\` installs qemu-system-x86 from bookworm-backports`,
    );
  await apt.update("qemu");
  await apt.install(["qemu-system-x86"]);
}

export async function ensureBusybox(apt: Apt): Promise<void> {
  if (existsSync(busyboxPath())) return;
  await apt.update("qemu");
  const tmp = join(cacheDir(), "debs-busybox");
  rmSync(tmp, { recursive: true, force: true });
  await apt.download("qemu", ["busybox-static"], tmp);
  const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"))!;
  sh(["dpkg-deb", "-x", join(tmp, deb), join(tmp, "x")], "extracting busybox-static");
  copyFileSync(join(tmp, "x", "bin", "busybox"), busyboxPath());
  rmSync(tmp, { recursive: true, force: true });
}

/** "6.1.0-50" < "6.1.0-51"; "7.2.13+deb14" by its numbers. */
function abiKey(abi: string): number[] {
  return (abi.match(/\d+/g) ?? []).map(Number);
}

function newest(abis: string[]): string | undefined {
  return [...abis].sort((a, b) => {
    const ka = abiKey(a);
    const kb = abiKey(b);
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
      const d = (ka[i] ?? 0) - (kb[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  })[abis.length - 1];
}

/** The packages holding the newest generic kernel of `version`: from 7.x, binary + modules. */
async function pickPackages(apt: Apt, version: string): Promise<string[]> {
  const v = version.replace(".", "\\.");
  const re = new RegExp(
    `^linux-(image|binary)-(${v}(?:\\.\\d+)?(?:-\\d+)?(?:\\+[a-z0-9]+)?)-amd64$`,
  );
  const names = await apt.names("kernels", "linux-");
  const found = names.map((n) => re.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  const abi = newest(found.map((m) => m[2]!));
  if (!abi) throw new UsageError(`kernel ${version}: no generic amd64 kernel on the mirror`);
  const binary = `linux-binary-${abi}-amd64`;
  return names.includes(binary)
    ? [binary, `linux-modules-${abi}-amd64`]
    : [`linux-image-${abi}-amd64`];
}

function findFirst(dir: string, match: (path: string) => boolean, depth = 5): string | undefined {
  if (depth < 0 || !existsSync(dir)) return undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (match(p)) return p;
    if (e.isDirectory()) {
      const hit = findFirst(p, match, depth - 1);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Index a module tree (`modules.dep`) with busybox's depmod: the .debs do not ship it. */
export function depmod(modules: string, release: string): void {
  if (existsSync(join(modules, "modules.dep"))) return;
  // busybox depmod -b BASE looks in BASE/lib/modules/RELEASE.
  const base = join(modules, "..", "..", "..");
  spawnSync(busyboxPath(), ["depmod", "-b", base, release], { cwd: modules });
  if (!existsSync(join(modules, "modules.dep")))
    throw new Error(`depmod of ${modules} made no modules.dep`);
}

/** Fetches run one at a time: kernels of a matrix share apt's lists, QEMU and busybox. */
let queue: Promise<unknown> = Promise.resolve();

export function fetchKernel(
  version: string,
  progress: (message: string) => void,
): Promise<CachedKernel> {
  checkVersion(version);
  const next = queue.then(async () => {
    const cached = readCached(version);
    if (cached) return currentInitramfs(cached, progress);
    return download(version, progress).catch((err: unknown) => {
      // A machine problem (mirror unreachable, apt failing): exit 2, with what to do.
      if (exitCodeFor(err) === 2) throw err;
      throw new KernelUnavailableError(
        `kernel ${version} cannot be fetched: ${(err as Error).message}; check that Debian's mirror is reachable, then \`tcprepro kernels fetch ${version}\``,
      );
    });
  });
  queue = next.catch(() => undefined);
  return next;
}

async function download(
  version: string,
  progress: (message: string) => void,
): Promise<CachedKernel> {
  const apt = new Apt(cacheDir(), progress);
  await ensureQemu(apt);
  await ensureBusybox(apt);
  await apt.update("kernels");
  const packages = await pickPackages(apt, version);
  const dir = kernelDir(version);
  rmSync(dir, { recursive: true, force: true });
  const debs = join(dir, "debs");
  await apt.download("kernels", packages, debs);
  const root = join(dir, "root");
  mkdirSync(root, { recursive: true });
  for (const deb of readdirSync(debs)) {
    progress(`extracting ${deb}`);
    sh(["dpkg-deb", "-x", join(debs, deb), root], `extracting ${deb}`);
  }
  rmSync(debs, { recursive: true, force: true });
  const modules = findFirst(
    root,
    (p) => /\/lib\/modules\/[^/]+$/.test(p) && existsSync(join(p, "kernel")),
  );
  if (!modules) throw new Error(`${packages.join(", ")}: no lib/modules/<release> inside`);
  const release = modules.split("/").pop()!;
  const vmlinuz = findFirst(root, (p) => /\/vmlinuz(-[^/]*)?$/.test(p));
  if (!vmlinuz) throw new Error(`${packages.join(", ")}: no vmlinuz inside`);
  progress(`indexing the modules of ${release}`);
  depmod(modules, release);
  const initrd = join(dir, "initrd.gz");
  await buildInitramfs({ modules, busybox: busyboxPath(), out: initrd });
  progress(`uncompressing the kernel (a faster boot under emulation)`);
  const kernel = withVmlinux({
    version,
    release,
    packages,
    vmlinuz,
    modules,
    initrd,
    initHash: INIT_HASH,
  });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernel, null, 2) + "\n");
  progress(`kernel ${version} (${release}) is ready`);
  return kernel;
}

/** A cached kernel whose initramfs came from another init script gets a new one (seconds). */
export async function currentInitramfs(
  kernel: CachedKernel,
  progress: (message: string) => void,
): Promise<CachedKernel> {
  if (kernel.initHash === INIT_HASH) return kernel;
  progress(`rebuilding the initramfs of ${kernel.release} (its init script changed)`);
  await buildInitramfs({ modules: kernel.modules, busybox: busyboxPath(), out: kernel.initrd });
  const updated = { ...kernel, initHash: INIT_HASH };
  writeFileSync(
    join(kernelDir(kernel.version), "kernel.json"),
    JSON.stringify(updated, null, 2) + "\n",
  );
  return updated;
}

/**
 * `--kernel-image PATH --kernel-modules DIR`: a kernel a user built, unnamed. Like one of
 * `kernels add`, made in the cache (`custom-<release>`); the user's directories are only read.
 */
export async function customKernel(
  image: string,
  modules: string,
  progress: (message: string) => void,
): Promise<CachedKernel> {
  const files = checkOwnFiles(image, modules, {
    image: "--kernel-image",
    modules: "--kernel-modules",
  });
  const apt = new Apt(cacheDir(), progress);
  await ensureQemu(apt);
  await ensureBusybox(apt);
  progress(`preparing ${files.release} from ${files.image}`);
  return prepareOwn({
    name: "custom",
    dir: kernelDir(`custom-${files.release}`),
    ...files,
    busybox: busyboxPath(),
    depmod,
  });
}
