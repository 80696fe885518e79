/**
 * `tcprepro kernels list | fetch <version…> | add NAME --image --modules | rm <name…>`: the VM
 * runtime's kernels, Debian's and one's own.
 */
import type { Command } from "commander";
import {
  cacheDir,
  checkVersion,
  KNOWN_VERSIONS,
  readCached,
  removeCached,
} from "../kernels/cache.js";
import { Apt } from "../kernels/apt.js";
import { busyboxPath, kernelDir } from "../kernels/cache.js";
import { depmod, ensureBusybox, fetchKernel } from "../kernels/fetch.js";
import { checkOwnFiles, checkOwnName, listOwn, prepareOwn } from "../kernels/own.js";

const progress = (message: string) => process.stderr.write(`  ${message}\n`);

export function registerKernels(program: Command): void {
  const kernels = program
    .command("kernels")
    .description(
      "kernels the VM runtime boots: list, fetch from Debian's mirror, add your own, remove",
    );
  kernels
    .command("list")
    .description(
      "Debian's versions (fetched or not) and the kernels added, with release and origin",
    )
    .action(() => {
      process.stdout.write(`cache: ${cacheDir()}\n`);
      for (const [version, suite] of Object.entries(KNOWN_VERSIONS)) {
        const k = readCached(version);
        process.stdout.write(
          `${version.padEnd(6)} ${suite.padEnd(20)} ${k ? `fetched: ${k.release} (${k.packages.join(", ")})` : "not fetched"}\n`,
        );
      }
      for (const k of listOwn())
        process.stdout.write(
          `${k.version.padEnd(6)} ${"own".padEnd(20)} ${k.release} from ${k.own!.image} (modules ${k.own!.modules})\n`,
        );
    });
  kernels
    .command("fetch")
    .description("download and prepare kernels (QEMU 10 and busybox too, when missing)")
    .argument("<versions...>", `any of ${Object.keys(KNOWN_VERSIONS).join(", ")}`)
    .action(async (versions: string[]) => {
      versions.forEach(checkVersion);
      for (const v of versions) {
        progress(`kernel ${v}`);
        const k = await fetchKernel(v, progress);
        process.stdout.write(`${v} ${k.release}\n`);
      }
    });
  kernels
    .command("add")
    .description(
      "name a kernel of your own (a bzImage and its modules) for --kernel; your files are only read",
    )
    .argument("<name>", "what --kernel, doctor --kernel and compare --kernels will call it")
    .requiredOption("--image <bzImage>", "the kernel image (arch/x86/boot/bzImage)")
    .requiredOption("--modules <dir>", "its modules: the lib/modules/<release> directory")
    .action(async (name: string, opts: { image: string; modules: string }) => {
      // Everything is checked before the cache is touched: a bad one is exit 2, nothing made.
      checkOwnName(name);
      const files = checkOwnFiles(opts.image, opts.modules);
      const replaced = readCached(name) !== undefined;
      await ensureBusybox(new Apt(cacheDir(), progress));
      const k = await prepareOwn({
        name,
        dir: kernelDir(name),
        ...files,
        busybox: busyboxPath(),
        depmod,
      });
      process.stdout.write(
        `${name} ${k.release} ${replaced ? "replaced" : "added"} (${k.own!.image}; tcprepro's files in ${kernelDir(name)})\n`,
      );
    });
  kernels
    .command("rm")
    .description(
      "remove kernels from the cache (of one's own: only tcprepro's files, never the image or modules)",
    )
    .argument("<names...>")
    .action((names: string[]) => {
      for (const v of names)
        process.stdout.write(`${v}: ${removeCached(v) ? "removed" : "not in the cache"}\n`);
    });
}
