/**
 * Kernels of one's own: `tcprepro kernels add NAME --image BZIMAGE --modules DIR`, and the
 * unnamed `--kernel-image/--kernel-modules` of a run. The user's files are only ever read: what
 * tcprepro makes for such a kernel (its module tree's index, the initramfs, the inventory) lives
 * in the cache, in a directory of the kernel's name. The module tree there is a tree of
 * symlinks to the user's modules (the guest follows them over 9p), or a copy when it has no
 * modules.dep and depmod must write one.
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";
import { UsageError } from "../util/errors.js";
import { type CachedKernel, cacheDir, KNOWN_VERSIONS, readCached } from "./cache.js";
import { checkBootImage, releaseOf } from "./image.js";
import { buildInitramfs, INIT_HASH } from "./initramfs.js";

/** Names the cache or the CLI already use for something else. */
const RESERVED = new Set(["host", "custom", "apt", "busybox", "own"]);

/** A name a kernel of one's own may have; throws a UsageError saying why not. */
export function checkOwnName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/.test(name))
    throw new UsageError(
      `kernel name "${name}": use letters, digits, '.', '_', '+' and '-' (e.g. 4.11 or fleet-5.4)`,
    );
  if (name in KNOWN_VERSIONS)
    throw new UsageError(
      `kernel name ${name} is Debian's ${name} (\`kernels fetch ${name}\`): name your own kernel differently (e.g. ${name}-own)`,
    );
  if (RESERVED.has(name) || name.startsWith("custom-") || name.startsWith("debs-"))
    throw new UsageError(`kernel name ${name} is reserved: choose another`);
}

/** The image and modules a user gave, checked: they exist, QEMU can boot it, they belong together. */
export function checkOwnFiles(
  image: string,
  modules: string,
  flags = { image: "--image", modules: "--modules" },
): { image: string; modules: string; release: string } {
  const img = resolve(image);
  const mods = resolve(modules).replace(/\/+$/, "");
  if (!existsSync(img)) throw new UsageError(`${flags.image} ${image}: no such file`);
  if (!existsSync(mods) || !statSync(mods).isDirectory())
    throw new UsageError(`${flags.modules} ${modules}: no such directory`);
  const boot = checkBootImage(img, `${flags.image} ${image}`);
  const dirRelease = basename(mods);
  const release = boot.kind === "bzImage" && boot.version ? releaseOf(boot.version) : dirRelease;
  if (release !== dirRelease)
    throw new UsageError(
      `${flags.modules} ${modules}: these are modules for ${dirRelease}, but the image is ${release}: pass its own lib/modules/${release}`,
    );
  if (!existsSync(join(mods, "modules.dep")) && !existsSync(join(mods, "kernel")))
    throw new UsageError(
      `${flags.modules} ${modules}: no modules.dep and no kernel/ inside: pass the lib/modules/<release> directory of \`make modules_install\``,
    );
  return { image: img, modules: mods, release };
}

/** Mirror `src` under `dst` as symlinks to its files (directories made, nothing of src written). */
function linkTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    // `build` and `source` point back into a build tree: the guest needs neither.
    if (e.isSymbolicLink() && (e.name === "build" || e.name === "source")) continue;
    if (e.isDirectory()) linkTree(s, d);
    else symlinkSync(realpathSync(s), d);
  }
}

function copyTree(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    if (e.isSymbolicLink() && (e.name === "build" || e.name === "source")) continue;
    if (lstatSync(s).isDirectory()) copyTree(s, join(dst, e.name));
    else copyFileSync(s, join(dst, e.name));
  }
}

/**
 * Makes (or remakes) the cache directory of a kernel of one's own: module tree, index,
 * initramfs, kernel.json. `dir` is the cache directory it goes to; `depmod` indexes a tree.
 */
export async function prepareOwn(o: {
  name: string;
  dir: string;
  image: string;
  modules: string;
  release: string;
  busybox: string;
  depmod: (modules: string, release: string) => void;
}): Promise<CachedKernel> {
  // Built beside, then swapped in: a build that fails half-way leaves the old one whole.
  const tmp = `${o.dir}.new-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    return await buildOwn(o, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function buildOwn(o: Parameters<typeof prepareOwn>[0], tmp: string): Promise<CachedKernel> {
  const tree = join(tmp, "root", "lib", "modules", o.release);
  const indexed = existsSync(join(o.modules, "modules.dep"));
  if (indexed) linkTree(o.modules, tree);
  else {
    copyTree(o.modules, tree);
    o.depmod(tree, o.release);
  }
  const final = join(o.dir, "root", "lib", "modules", o.release);
  await buildInitramfs({
    modules: tree,
    busybox: o.busybox,
    out: join(tmp, "initrd.gz"),
    moddir: final,
  });
  const kernel: CachedKernel = {
    version: o.name,
    release: o.release,
    packages: [],
    vmlinuz: o.image,
    modules: final,
    initrd: join(o.dir, "initrd.gz"),
    initHash: INIT_HASH,
    own: { image: o.image, modules: o.modules, added: new Date().toISOString() },
  };
  writeFileSync(join(tmp, "kernel.json"), JSON.stringify(kernel, null, 2) + "\n");
  rmSync(o.dir, { recursive: true, force: true });
  renameSync(tmp, o.dir);
  return kernel;
}

/** The kernels of one's own in the cache, by name. */
export function listOwn(): CachedKernel[] {
  if (!existsSync(cacheDir())) return [];
  return readdirSync(cacheDir())
    .filter((d) => !d.includes(".new-"))
    .map((d) => readCached(d))
    .filter((k): k is CachedKernel => k !== undefined && k.own !== undefined)
    .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }));
}
