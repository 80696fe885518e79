/**
 * What QEMU can boot, judged before a run on small synthetic files; the guest counted as up only
 * on the agent's own answer; the names a kernel of one's own may have.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { bzVersion, checkBootImage } from "../../src/kernels/image.js";
import { checkOwnFiles, checkOwnName } from "../../src/kernels/own.js";
import { GuestChannel } from "../../src/vm/channel.js";
import { consoleTail, STUCK_BOOT } from "../../src/vm/qemu.js";
import { clockOffsetUs } from "../../src/vm/clock.js";

const dir = mkdtempSync(join(tmpdir(), "tcprepro-image-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bzImage header: "HdrS" at 0x202, kernel_version pointing at a version string. */
function bzImage(version?: string): Buffer {
  const b = Buffer.alloc(8192);
  b.write("HdrS", 0x202, "latin1");
  b.writeUInt16LE(0x020f, 0x206);
  if (version) {
    b.writeUInt16LE(0x1000 - 0x200, 0x20e);
    b.write(`${version}\0`, 0x1000, "latin1");
  }
  return b;
}

/** An ELF64 with one note: the PVH entry (Xen, type 0x12) or another. */
function elf(noteType: number | undefined): Buffer {
  const head = Buffer.alloc(64);
  head.write("\x7fELF", 0, "latin1");
  head[4] = 2;
  const note =
    noteType === undefined
      ? Buffer.alloc(0)
      : Buffer.from([4, 0, 0, 0, 8, 0, 0, 0, noteType, 0, 0, 0, 0x58, 0x65, 0x6e, 0, 1, 2, 3, 4]);
  return Buffer.concat([head, Buffer.alloc(200), note, Buffer.alloc(64)]);
}

const file = (name: string, data: Buffer | string) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

describe("a kernel image, judged before QEMU sees it", () => {
  it("takes a bzImage and reads its release from the header", () => {
    const p = file("bzImage", bzImage("4.11.0 (build@host) #1 SMP"));
    expect(checkBootImage(p)).toEqual({ kind: "bzImage", version: "4.11.0 (build@host) #1 SMP" });
    expect(bzVersion(bzImage())).toBeUndefined();
  });

  it("takes an ELF with a PVH entry note", () => {
    expect(checkBootImage(file("vmlinux-pvh", elf(0x12)))).toEqual({ kind: "pvh-elf" });
  });

  it("refuses an ELF without the PVH note (an uncompressed vmlinux of an older kernel, /bin/true) and says what to pass", () => {
    for (const p of [file("vmlinux-old", elf(0x11)), file("plain-elf", elf(undefined))])
      expect(() => checkBootImage(p)).toThrow(/without a PVH entry note.*Pass .*bzImage/);
    expect(() => checkBootImage("/bin/true")).toThrow(/PVH/);
  });

  it("refuses what is no kernel at all, an empty file and a directory", () => {
    expect(() => checkBootImage(file("text", "just text\n"))).toThrow(/not a kernel QEMU can boot/);
    expect(() => checkBootImage(file("empty", ""))).toThrow(/not a kernel QEMU can boot/);
    expect(() => checkBootImage(dir)).toThrow(/not a file/);
    expect(() => checkBootImage(join(dir, "absent"))).toThrow(/ENOENT/);
  });
});

describe("a kernel of one's own", () => {
  it("takes names that are no Debian version and nothing the cache uses", () => {
    for (const ok of ["4.11", "fleet-5.4", "prod_6.6+patch"])
      expect(() => checkOwnName(ok)).not.toThrow();
    expect(() => checkOwnName("6.1")).toThrow(/Debian's 6.1/);
    for (const bad of ["host", "apt", "busybox", "custom-x", "../x", "a/b", ""])
      expect(() => checkOwnName(bad)).toThrow(UsageErrorLike);
  });

  it("wants the modules of the image's own release", () => {
    const image = file("bz-4.11", bzImage("4.11.0 (b@h) #1"));
    const mods = join(dir, "lib", "modules", "4.11.0");
    const other = join(dir, "lib", "modules", "5.4.0");
    mkdirSync(mods, { recursive: true });
    mkdirSync(other, { recursive: true });
    writeFileSync(join(mods, "modules.dep"), "");
    writeFileSync(join(other, "modules.dep"), "");
    expect(checkOwnFiles(image, mods).release).toBe("4.11.0");
    expect(() => checkOwnFiles(image, other)).toThrow(/modules for 5.4.0, but the image is 4.11.0/);
    expect(() => checkOwnFiles(image, join(dir, "nowhere"))).toThrow(/no such directory/);
  });
});

const UsageErrorLike = /kernel name|reserved/;

describe("the guest counts as up", () => {
  it("only on the agent's own answer, not on the error of a socket that closed", async () => {
    const sock = join(dir, "closes.sock");
    // QEMU's side of a VM that died: accepts, then closes without a word.
    const server = createServer((c) => c.destroy()).listen(sock);
    await new Promise((r) => server.once("listening", r));
    const ch = new GuestChannel("kernel test");
    await expect(ch.open(sock, Date.now() + 5000)).rejects.toThrow(/never answered/);
    server.close();
  });

  it("when the agent says ok", async () => {
    const sock = join(dir, "agent.sock");
    const server = createServer((c) =>
      c.on("data", (d) => c.write(`${d.toString().split(" ")[0]} ok -\n`)),
    ).listen(sock);
    await new Promise((r) => server.once("listening", r));
    const ch = new GuestChannel("kernel test");
    await expect(ch.open(sock, Date.now() + 5000)).resolves.toBeUndefined();
    ch.close("done");
    server.close();
  });

  it("knows a stuck boot from the console (init gave up, a panic), not a good one", () => {
    expect(STUCK_BOOT.test("mount: mounting hostroot on /lower failed: No such device")).toBe(true);
    expect(
      STUCK_BOOT.test("[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs"),
    ).toBe(true);
    expect(
      STUCK_BOOT.test(
        "init: insmod virtio_pci.ko failed\n[    2.9] 9pnet: Installing 9P2000 support",
      ),
    ).toBe(false);
  });

  it("says the console's last lines, not its blank ones", () => {
    expect(consoleTail("a\r\n\r\nb\nc\n\n", 2)).toEqual(["b", "c"]);
  });
});

describe("one clock", () => {
  it("measures the guest's clock against the host's from the round trip with the least delay", async () => {
    let n = 0;
    // The guest is 1.69 s ahead; the first read is slow (its answer is stamped late).
    const read = async () => {
      const slow = n++ === 0;
      if (slow) await new Promise((r) => setTimeout(r, 30));
      const t = (performance.timeOrigin + performance.now()) * 1000 + 1_690_000;
      if (slow) await new Promise((r) => setTimeout(r, 1));
      return t;
    };
    const offset = await clockOffsetUs(read);
    expect(Math.abs(offset - 1_690_000)).toBeLessThan(2_000);
  });
});

describe("resolveKernel: one name → one kernel", () => {
  it("knows Debian's versions, the kernels added, and names the rest in its refusal", async () => {
    const { resolveKernel } = await import("../../src/kernels/resolve.js");
    const cache = mkdtempSync(join(tmpdir(), "tcprepro-resolve-"));
    onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
    const before = process.env.TCPREPRO_CACHE;
    process.env.TCPREPRO_CACHE = cache;
    try {
      const image = file("bz-own", bzImage("4.11.0 (b@h) #1"));
      mkdirSync(join(cache, "4.11"));
      writeFileSync(
        join(cache, "4.11", "kernel.json"),
        JSON.stringify({
          version: "4.11",
          release: "4.11.0",
          packages: [],
          vmlinuz: image,
          modules: join(cache, "4.11", "root", "lib", "modules", "4.11.0"),
          initrd: join(cache, "4.11", "initrd.gz"),
          own: { image, modules: "/elsewhere/lib/modules/4.11.0", added: "2026-12-06" },
        }),
      );
      expect(resolveKernel("4.11")).toMatchObject({
        name: "4.11",
        source: "own",
        image,
        release: "4.11.0",
        origin: `${image} (modules /elsewhere/lib/modules/4.11.0)`,
      });
      expect(resolveKernel("6.1")).toMatchObject({ source: "debian", release: undefined });
      expect(() => resolveKernel("4.9")).toThrow(
        /kernel 4\.9 is not available: choose from 5\.10, 6\.1, 6\.12, 7\.2 .*4\.11 \(added with `kernels add`\)/,
      );
    } finally {
      if (before === undefined) delete process.env.TCPREPRO_CACHE;
      else process.env.TCPREPRO_CACHE = before;
    }
  });
});
