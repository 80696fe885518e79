/**
 * The uncompressed kernel (`vmlinux`) of a bzImage, for a faster boot: under emulation the
 * kernel's own decompressor takes seconds before the first line of the kernel runs. QEMU boots
 * an ELF vmlinux directly when it has a PVH entry point (Debian's kernels do), so it is
 * decompressed once, at fetch time, with the host's xz/zstd/gzip.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CachedKernel } from "./cache.js";

const TOOLS: Array<{ magic: Buffer; argv: string[] }> = [
  {
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    argv: ["xz", "-dc", "--single-stream"],
  },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), argv: ["zstd", "-dcq"] },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), argv: ["gzip", "-dcq"] },
];

/** The compressed payload of a bzImage, from its boot protocol header (2.08+). */
export function bzPayload(image: Buffer): Buffer | undefined {
  if (image.length < 0x250 || image.toString("latin1", 0x202, 0x206) !== "HdrS") return undefined;
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  return start + length <= image.length ? image.subarray(start, start + length) : undefined;
}

/** Has an ELF note "Xen" of type 0x12 (XEN_ELFNOTE_PHYS32_ENTRY): the PVH entry QEMU uses. */
export function hasPvhEntry(elf: Buffer): boolean {
  const note = Buffer.from([0x04, 0, 0, 0]);
  const tail = Buffer.from([0x12, 0, 0, 0, 0x58, 0x65, 0x6e, 0x00]);
  for (let i = elf.indexOf(tail); i >= 0; i = elf.indexOf(tail, i + 1))
    if (i >= 8 && elf.subarray(i - 8, i - 4).equals(note)) return true;
  return false;
}

/**
 * Writes `out` (an ELF with a PVH entry) from the bzImage `vmlinuz`; false when that cannot be
 * done (unknown compression, no tool, no PVH entry): then the bzImage boots as it is.
 */
export function extractVmlinux(vmlinuz: string, out: string): boolean {
  if (existsSync(out)) return true;
  const payload = bzPayload(readFileSync(vmlinuz));
  const tool = payload && TOOLS.find((t) => payload.subarray(0, t.magic.length).equals(t.magic));
  if (!payload || !tool) return false;
  // Trailing bytes after the stream (the size word) make some tools exit non-zero: the output
  // is judged by what it is.
  const r = spawnSync(tool.argv[0]!, tool.argv.slice(1), { input: payload, maxBuffer: 1 << 30 });
  const elf = r.stdout;
  if (!elf || elf.length < 4 || elf.toString("latin1", 0, 4) !== "\x7fELF" || !hasPvhEntry(elf))
    return false;
  // Whole or not at all: another run may be booting this kernel meanwhile.
  writeFileSync(`${out}.${process.pid}`, elf);
  renameSync(`${out}.${process.pid}`, out);
  return true;
}

/**
 * The kernel with `vmlinux` beside its initramfs when it can be had (extracted once). When it
 * cannot (4.11's has no PVH entry), a marker says so for this very image, so that a boot does
 * not decompress the kernel again only to find that out.
 */
export function withVmlinux(k: CachedKernel): CachedKernel {
  if (k.vmlinux && existsSync(k.vmlinux)) return k;
  const out = join(dirname(k.initrd), "vmlinux");
  const marker = `${out}.none`;
  const st = statSync(k.vmlinuz);
  const stamp = `${k.vmlinuz} ${st.size} ${st.mtimeMs}\n`;
  if (existsSync(marker) && readFileSync(marker, "utf8") === stamp) return k;
  if (extractVmlinux(k.vmlinuz, out)) return { ...k, vmlinux: out };
  writeFileSync(marker, stamp);
  return k;
}
