/**
 * What a kernel image is, before QEMU is asked to boot it. QEMU's `-kernel` takes an x86 boot
 * protocol image (a bzImage: "HdrS" at 0x202) or an ELF with a PVH entry note; anything else it
 * refuses only after it started, and a run used to learn that from a dead socket. So an image is
 * judged here, from its first bytes, and refused with what to pass instead (exit 2).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { UsageError } from "../util/errors.js";
import { hasPvhEntry } from "./vmlinux.js";

export type BootImage =
  | {
      kind: "bzImage";
      /** `4.11.0 (user@host) #1 …`, from the header, when it has one */ version?: string;
    }
  | { kind: "pvh-elf" };

/** The bzImage's version string: header field kernel_version (0x20e) points at it, minus 0x200. */
export function bzVersion(head: Buffer): string | undefined {
  if (head.length < 0x210) return undefined;
  const ptr = head.readUInt16LE(0x20e);
  if (ptr === 0) return undefined;
  const at = ptr + 0x200;
  if (at >= head.length) return undefined;
  const end = head.indexOf(0, at);
  const s = head.toString("latin1", at, end < 0 ? Math.min(head.length, at + 256) : end);
  return /^\d+\.\d+/.test(s) ? s : undefined;
}

/** The release (`uname -r`) a bzImage's version string starts with. */
export function releaseOf(version: string): string {
  return version.split(" ")[0]!;
}

/**
 * Judges the bytes of an image; `what` names it in the message. Throws a UsageError saying why
 * QEMU could not boot it and what to pass instead.
 */
export function judgeImage(data: Buffer, what: string): BootImage {
  if (data.length >= 0x210 && data.toString("latin1", 0x202, 0x206) === "HdrS")
    return { kind: "bzImage", version: bzVersion(data) };
  if (data.length >= 4 && data.toString("latin1", 0, 4) === "\x7fELF") {
    if (hasPvhEntry(data)) return { kind: "pvh-elf" };
    throw new UsageError(
      `${what}: an ELF file without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): QEMU cannot boot it ("Error loading uncompressed kernel without PVH ELF Note"). Pass the compressed kernel instead: the bzImage (arch/x86/boot/bzImage in a build tree, /boot/vmlinuz-<release> on an installed system)`,
    );
  }
  throw new UsageError(
    `${what}: not a kernel QEMU can boot (neither a bzImage — no "HdrS" boot header at 0x202 — nor an ELF vmlinux with a PVH note). Pass the bzImage: arch/x86/boot/bzImage in a build tree, /boot/vmlinuz-<release> on an installed system`,
  );
}

/** Reads and judges an image file (only its header when it is no ELF). */
export function checkBootImage(path: string, what = path): BootImage {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${what}: not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
  const fd = openSync(path, "r");
  let head: Buffer;
  try {
    head = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  // An ELF's notes can be anywhere in it: only then is the whole file read.
  const isElf = head.toString("latin1", 0, 4) === "\x7fELF";
  return judgeImage(isElf ? readFileSync(path) : head, what);
}
