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
import {
  catalogUse,
  checkBeforeBoot,
  checkKernel,
  formatCheck,
  hostIptablesFlavour,
} from "../kernels/check.js";
import { readSources } from "../kernels/config.js";
import { resolveKernel } from "../kernels/resolve.js";
import { expandPaths, loadAll } from "../run/run.js";
import { anyKernel } from "../scenario/semantics.js";
import { UsageError } from "../util/errors.js";
import { PROJECT_ROOT } from "../util/project.js";
import { join } from "node:path";

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
      // A kernel that cannot boot or run any scenario is refused now, not at its first run.
      const check = checkBeforeBoot(files.image, files.modules);
      if (check.fatal) throw new UsageError(formatCheck(check, `${name}`).trimEnd());
      for (const f of check.features.filter((x) => x.status === "missing"))
        progress(
          `${name} lacks ${f.id}: ${f.missing.join(", ")} (\`kernels check ${name}\` says what that costs)`,
        );
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
    .command("check")
    .description(
      "which features the VM runtime needs a kernel lacks (boot modules, netns, veth, bridge, netfilter, netem, tracing) and what each costs",
    )
    .argument(
      "<image-or-name>",
      "a bzImage, or the name of a kernel (6.1, or one of `kernels add`)",
    )
    .argument("[modules]", "the image's lib/modules/<release> directory (with an image)")
    .option("--json", "print the check as JSON", false)
    .action((what: string, modules: string | undefined, opts: { json: boolean }) => {
      let image = what;
      let mods = modules;
      let label = what;
      if (mods === undefined) {
        const k = resolveKernel(what);
        if (!k.cached)
          throw new UsageError(
            `kernel ${what} is not fetched yet: \`tcprepro kernels fetch ${what}\``,
          );
        image = k.cached.own?.image ?? k.cached.vmlinuz;
        mods = k.cached.modules;
        label = `kernel ${what} (${k.release})`;
      } else checkOwnFiles(image, mods, { image: "image", modules: "modules" });
      const catalog = loadAll(expandPaths([join(PROJECT_ROOT, "scenarios")]), anyKernel);
      const check = checkKernel(
        readSources(image, mods),
        catalogUse(catalog),
        hostIptablesFlavour(),
      );
      process.stdout.write(
        opts.json ? JSON.stringify(check, null, 2) + "\n" : formatCheck(check, label),
      );
      // Like doctor: exit 1 says "this kernel lacks what tcprepro needs", nothing failed.
      process.exitCode = check.fatal ? 1 : 0;
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
