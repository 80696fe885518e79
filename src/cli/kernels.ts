/** `tcprepro kernels list | fetch <version…> | rm <version…>`: the VM runtime's kernel cache. */
import type { Command } from "commander";
import {
  cacheDir,
  checkVersion,
  KNOWN_VERSIONS,
  listCached,
  readCached,
  removeCached,
} from "../kernels/cache.js";
import { fetchKernel } from "../kernels/fetch.js";

const progress = (message: string) => process.stderr.write(`  ${message}\n`);

export function registerKernels(program: Command): void {
  const kernels = program
    .command("kernels")
    .description("kernels the VM runtime boots: list, fetch from Debian's mirror, remove");
  kernels
    .command("list")
    .description("the versions available and those fetched into the cache")
    .action(() => {
      process.stdout.write(`cache: ${cacheDir()}\n`);
      for (const [version, suite] of Object.entries(KNOWN_VERSIONS)) {
        const k = readCached(version);
        process.stdout.write(
          `${version.padEnd(6)} ${suite.padEnd(20)} ${k ? `fetched: ${k.release} (${k.packages.join(", ")})` : "not fetched"}\n`,
        );
      }
      const custom = listCached().filter((k) => !(k.version in KNOWN_VERSIONS));
      for (const k of custom) process.stdout.write(`${k.version.padEnd(6)} custom ${k.vmlinuz}\n`);
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
    .command("rm")
    .description("remove fetched kernels from the cache")
    .argument("<versions...>")
    .action((versions: string[]) => {
      for (const v of versions)
        process.stdout.write(`${v}: ${removeCached(v) ? "removed" : "not in the cache"}\n`);
    });
}
